export interface WaitNode<T> {
  value: T;
  prev: WaitNode<T> | null;
  next: WaitNode<T> | null;
  linked: boolean;
}

/** FIFO of parked requests with O(1) removal of any one (timeout, disconnect). */
export class WaitList<T> {
  private head: WaitNode<T> | null = null;
  private tail: WaitNode<T> | null = null;
  size = 0;

  push(value: T): WaitNode<T> {
    const node: WaitNode<T> = { value, prev: this.tail, next: null, linked: true };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size++;
    return node;
  }

  unshift(value: T): WaitNode<T> {
    const node: WaitNode<T> = { value, prev: null, next: this.head, linked: true };
    if (this.head) this.head.prev = node;
    else this.tail = node;
    this.head = node;
    this.size++;
    return node;
  }

  /** puts a node that was removed back at the tail (no allocation: a group's place in a rotation is reused) */
  relink(node: WaitNode<T>): void {
    if (node.linked) this.remove(node);
    node.prev = this.tail;
    node.next = null;
    node.linked = true;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size++;
  }

  get first(): T | undefined {
    return this.head?.value;
  }

  /** the nodes in order; the current one may be removed while walking */
  *nodes(): IterableIterator<WaitNode<T>> {
    for (let n = this.head; n;) {
      const next = n.next;
      yield n;
      n = next;
    }
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let n = this.head; n; n = n.next) yield n.value;
  }

  shift(): T | undefined {
    const node = this.head;
    if (!node) return undefined;
    this.remove(node);
    return node.value;
  }

  /** false if the node was already gone */
  remove(node: WaitNode<T>): boolean {
    if (!node.linked) return false;
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = null;
    node.linked = false;
    this.size--;
    return true;
  }

  /** removes and returns every value, in order */
  drain(): T[] {
    const out: T[] = [];
    for (let v = this.shift(); v !== undefined; v = this.shift()) out.push(v);
    return out;
  }
}
