// Sub-tabs inside a panel: buttons with data-tab, pages with the same data-page.
export function subtabs(bar, pages, onSelect = () => {}) {
  const select = (name) => {
    for (const button of bar.querySelectorAll("[data-tab]")) {
      button.setAttribute("aria-selected", String(button.dataset.tab === name));
    }
    for (const page of pages.querySelectorAll(":scope > [data-page]")) {
      page.hidden = page.dataset.page !== name;
    }
    onSelect(name);
  };
  bar.addEventListener("click", (event) => {
    const button = event.target.closest("[data-tab]");
    if (button) select(button.dataset.tab);
  });
  return { select };
}
