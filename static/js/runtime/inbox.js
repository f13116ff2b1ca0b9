// A run's events, handed on in order as they arrive, unless a frame asked to stay on
// screen a while (hold): then the events behind it wait their turn.

export class Inbox {
  constructor(handle) {
    this.handle = handle;
    this.clear();
  }

  clear() {
    clearTimeout(this.timer);
    this.queue = [];
    this.waiting = false;
    this.holdUntil = 0;
  }

  get length() { return this.queue.length; }

  push(event, data) {
    this.queue.push([event, data]);
    if (!this.waiting) this.pump();
  }

  hold(ms) { this.holdUntil = performance.now() + ms; }

  pump() {
    this.waiting = false;
    while (this.queue.length) {
      const wait = this.holdUntil - performance.now();
      if (wait > 0) {
        this.waiting = true;
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      const [event, data] = this.queue.shift();
      this.handle(event, data);
    }
  }
}
