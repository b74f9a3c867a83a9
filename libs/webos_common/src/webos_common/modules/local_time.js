// Date-times as the person reads and enters them: in their browser's own time zone. The API
// keeps instants in UTC ("2031-12-24T15:45:00Z"; a time without an offset is UTC too); an input
// holds the local wall time ("2031-12-24T10:45" in New York), and what is entered there is read
// as local time, so saving 10:00 stores the instant that is 10:00 where the person is.
window.webosLocalTime = {
  instant(value) {
    if (value === null || value === undefined || value === "") return null;
    const s = String(value);
    const d = new Date(/([zZ]|[+-]\d\d:?\d\d)$/.test(s) || s.length <= 10 ? s : s + "Z");
    return isNaN(d) ? null : d;
  },
  // UTC instant -> "YYYY-MM-DDTHH:MM[:SS]" local, for <input type="datetime-local">
  toInput(value) {
    const d = this.instant(value);
    if (!d) return value ? String(value) : "";
    const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString();
    return d.getSeconds() ? local.slice(0, 19) : local.slice(0, 16);
  },
  // what an input holds (local wall time, or a time with its own offset) -> the UTC instant
  toUtc(text) {
    if (text === null || text === undefined || String(text).trim() === "") return null;
    const d = new Date(String(text).trim());
    return isNaN(d) ? String(text) : d.toISOString().replace(".000Z", "Z");
  },
  // as people read it (the grid's cells say it the same way)
  readable(value) {
    const d = this.instant(value);
    if (!d) return value ? String(value) : "";
    // one formatter for the page: `toLocaleString` with options builds a new one for every call
    // (a grid's page of dates built one per cell, the costliest call in drawing the rows)
    this.formatter ??= new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    return this.formatter.format(d);
  },
  // a text with UTC instants in it (["Due: ", {instant: "2031-12-24T15:45:00Z"}]), as people read it
  text(parts) {
    return (parts || []).map((p) => (typeof p === "string" ? p : this.readable(p && p.instant))).join("");
  },
};

// The grid's editor of a date-time cell: the local time in the browser's own picker; the cell's
// new value is the UTC instant (empty: none).
window.WebosMomentEditor = class {
  init(params) {
    this.input = document.createElement("input");
    this.input.type = "datetime-local";
    this.input.className = "ag-input-field-input";
    this.input.style.width = "100%";
    this.input.value = window.webosLocalTime.toInput(params.value);
  }
  getGui() {
    return this.input;
  }
  afterGuiAttached() {
    this.input.focus();
  }
  getValue() {
    return window.webosLocalTime.toUtc(this.input.value);
  }
};
