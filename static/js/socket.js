// Every WebSocket of the page: opened on this host with the page's own scheme, JSON in and out,
// and opened again after a drop, sooner first and then every few seconds. A socket closed here
// stays closed.
const RETRY_MS = [500, 1000, 2000, 5000];

export class LiveSocket {
  /**
   * path: "/ws/..."; onMessage(data) for each JSON message; onOpen() once connected;
   * onDrop() when the connection is lost (not closed here); retry() before each new attempt,
   * false to give up (the host may say what is gone).
   */
  constructor(path, { onMessage, onOpen = () => {}, onDrop = () => {}, retry = async () => true }) {
    Object.assign(this, { path, onMessage, onOpen, onDrop, retry });
    this.attempt = 0;
    this.socket = null;
    this.timer = null; // the next try after a drop
    this.open();
  }

  get isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}${this.path}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onOpen();
    });
    socket.addEventListener("message", (message) => {
      if (this.socket !== socket) return;
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return; // not ours to show
      }
      this.onMessage(data);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return; // closed here, on purpose
      this.onDrop();
      const delay = RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)];
      this.timer = setTimeout(() => {
        this.timer = null;
        this.reopen(socket);
      }, delay);
    });
  }

  /** Opens again after `socket` dropped, unless it was closed here meanwhile or retry() says no. */
  async reopen(socket) {
    if (this.socket !== socket) return;
    if (!(await this.retry())) this.close();
    else if (this.socket === socket) this.open();
  }

  /** Dropped and waiting to try again: try now (something the host said changed). */
  retryNow() {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.reopen(this.socket);
  }

  send(message) {
    if (this.isOpen) this.socket.send(JSON.stringify(message));
  }

  close() {
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }
}
