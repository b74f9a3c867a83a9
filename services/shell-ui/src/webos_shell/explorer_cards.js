// The DataExplorer's rows as a phone shows them: a card per row, each opening its record, its
// lines said as `window.webosLocalTime` says a text (instants in the person's local time).
// The cards are drawn only while the screen is narrower than Tailwind's `sm` (where the grid is
// hidden and the cards shown): a wide screen, which never shows them, builds none of them.
const WIDE = "(min-width: 40rem)"; // Tailwind's `sm`, as in the grid's `max-sm:hidden`

export default {
  template: `
    <div>
      <template v-if="narrow">
        <a v-for="card in cards" :key="card.href" :href="prefixed(card.href)" data-testid="explorer-card"
           class="nicegui-link block w-full no-underline text-inherit">
          <q-card class="nicegui-card w-full gap-1 p-3">
            <div class="font-medium">{{ card.heading }}</div>
            <div v-for="(line, i) in card.lines" :key="i" class="text-sm text-gray-600">{{ said(line) }}</div>
          </q-card>
        </a>
      </template>
    </div>`,
  props: {
    cards: Array,
  },
  data() {
    return { narrow: !window.matchMedia(WIDE).matches };
  },
  mounted() {
    this.query = window.matchMedia(WIDE);
    this.follow = () => (this.narrow = !this.query.matches);
    this.query.addEventListener("change", this.follow);
  },
  unmounted() {
    this.query.removeEventListener("change", this.follow);
  },
  methods: {
    prefixed(href) {
      return (window.path_prefix || "") + href;
    },
    said(parts) {
      return window.webosLocalTime.text(parts);
    },
  },
};
