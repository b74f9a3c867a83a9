// The DataExplorer's message at a cell: a refused edit is said under the cell it was made in
// (role=alert, so a screen reader reads it too), the cell is marked invalid, and both go at the
// next edit, a click elsewhere, or after a while.
window.webosCellError = (gridId, rowId, colId, message) => {
  const grid = document.getElementById("c" + gridId);
  if (!grid) return;
  const clear = () => {
    grid.querySelectorAll(".webos-cell-error").forEach((tip) => tip.remove());
    grid.querySelectorAll(".webos-cell-invalid").forEach((cell) => {
      cell.classList.remove("webos-cell-invalid");
      cell.removeAttribute("aria-invalid");
    });
  };
  clear();
  // after the grid has drawn the saved value again
  setTimeout(() => {
    const row = `.ag-center-cols-container .ag-row[row-id="${CSS.escape(String(rowId))}"]`;
    const cell = grid.querySelector(`${row} .ag-cell[col-id="${CSS.escape(String(colId))}"]`);
    if (!cell) return;
    const tip = document.createElement("div");
    tip.className = "webos-cell-error";
    tip.setAttribute("role", "alert");
    tip.dataset.testid = "cell-error";
    tip.dataset.row = String(rowId);
    tip.dataset.col = String(colId);
    tip.textContent = message;
    const box = grid.getBoundingClientRect();
    const at = cell.getBoundingClientRect();
    grid.style.position = "relative";
    Object.assign(tip.style, {
      position: "absolute", left: `${at.left - box.left}px`, top: `${at.bottom - box.top + 2}px`,
      zIndex: 20, maxWidth: "22rem", padding: "4px 8px", borderRadius: "4px", fontSize: "0.8125rem",
      background: "#b71c1c", color: "#fff", boxShadow: "0 2px 6px rgba(0,0,0,.3)",
    });
    grid.appendChild(tip);
    cell.classList.add("webos-cell-invalid");
    cell.setAttribute("aria-invalid", "true");
    setTimeout(() => grid.addEventListener("pointerdown", clear, { once: true }), 0);
    setTimeout(() => tip.isConnected && clear(), 10000);
  }, 120);
};
