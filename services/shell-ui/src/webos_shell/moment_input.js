// A date-time field over a UTC instant (`value`, as the API has it), shown and entered as the
// person's local time (`window.webosLocalTime`): the browser's picker when editing, the time
// as people read it when `readable` (the view mode). It emits the UTC instant, never local text.
export default {
  template: `
    <q-input
      v-bind="$attrs"
      :type="readable ? 'text' : 'datetime-local'"
      :model-value="readable ? shown : inputValue"
      @update:model-value="typed"
      stack-label
    />
  `,
  inheritAttrs: false, // $attrs go to the q-input (label, error, readonly, marks), whose type is ours
  props: {
    value: String,
    readable: Boolean,
    type: String, // ui.input's "text": not passed on
    _autocomplete: Array,
  },
  emits: ["update:value"],
  data() {
    return { inputValue: window.webosLocalTime.toInput(this.value) };
  },
  computed: {
    shown() {
      return window.webosLocalTime.readable(this.value);
    },
  },
  watch: {
    value(newValue) {
      if (window.webosLocalTime.toUtc(this.inputValue) !== newValue) {
        this.inputValue = window.webosLocalTime.toInput(newValue);
      }
    },
  },
  methods: {
    typed(local) {
      this.inputValue = local;
      this.$emit("update:value", window.webosLocalTime.toUtc(local) ?? "");
    },
  },
};
