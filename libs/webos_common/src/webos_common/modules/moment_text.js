// A label of text parts whose UTC instants ({instant: "2031-12-24T15:45:00Z"}) are said in the
// person's local time, as the grid's cells say them (`window.webosLocalTime`).
export default {
  template: `<component :is="tag">{{ shown }}</component>`,
  props: {
    parts: Array,
    tag: { type: String, default: "div" },
  },
  computed: {
    shown() {
      return window.webosLocalTime.text(this.parts);
    },
  },
};
