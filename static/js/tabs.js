// Tab strips, as the WAI-ARIA tabs pattern has them: one tab stop for the strip (the selected
// tab), arrow keys move along it and Home/End to its ends, each selecting as it goes; every tab
// names the panel it controls and the panel is labelled by its tab.
let ids = 0;

/** Keyboard and ARIA state for the [role=tab] children of `bar`; onSelect(tab) on a choice. */
export class TabList {
  constructor(bar, onSelect) {
    this.bar = bar;
    bar.setAttribute("role", "tablist");
    bar.addEventListener("click", (event) => {
      const tab = event.target.closest("[role=tab]");
      if (tab && this.bar.contains(tab)) onSelect(tab);
    });
    bar.addEventListener("keydown", (event) => {
      const tabs = this.tabs();
      const index = tabs.indexOf(event.target);
      if (index < 0 || event.altKey || event.ctrlKey || event.metaKey) return;
      const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const tab = tabs[(next + tabs.length) % tabs.length];
      onSelect(tab);
      tab.focus();
    });
  }

  tabs() {
    return [...this.bar.querySelectorAll("[role=tab]")].filter((tab) => !tab.hidden);
  }

  /** Marks `tab` selected (the strip's one tab stop), and the others not. */
  mark(selected) {
    for (const tab of this.tabs()) {
      const on = tab === selected;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    }
  }

  /** Links a tab and its panel both ways, with ids made up when they have none. */
  static link(tab, panel) {
    panel.setAttribute("role", "tabpanel");
    tab.id ||= `tab-${++ids}`;
    panel.id ||= `${tab.id}-panel`;
    tab.setAttribute("aria-controls", panel.id);
    panel.setAttribute("aria-labelledby", tab.id);
  }
}

/** Sub-tabs inside a panel: buttons with data-tab, pages with the same data-page. */
export function subtabs(bar, pages, onSelect = () => {}) {
  const page = (name) => pages.querySelector(`:scope > [data-page="${name}"]`);
  const list = new TabList(bar, (tab) => select(tab.dataset.tab));
  for (const tab of list.tabs()) TabList.link(tab, page(tab.dataset.tab));
  const select = (name) => {
    list.mark(bar.querySelector(`[data-tab="${name}"]`));
    for (const each of pages.querySelectorAll(":scope > [data-page]")) each.hidden = each.dataset.page !== name;
    onSelect(name);
  };
  list.mark(bar.querySelector("[aria-selected=true]") ?? list.tabs()[0]);
  return { select };
}
