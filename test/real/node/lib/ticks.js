'use strict';
// ticks is the source of the `ticks` subscription: 0 at once, then 1, 2, ...
// each due everyMs after the one before, counted from the start so that a
// slow consumer does not make the schedule drift.
//
// It is an iterator rather than an async generator because a generator that
// is waiting on a timer cannot be returned until that timer fires
// (ECMAScript queues return() behind the pending next()), and graphql-ws
// 6.4.2 awaits return() on every subscription before its onClose hook
// (dist/server-zBhvXJ_Z.js, the function opened() returns).
function ticks(everyMs) {
  const start = Date.now();
  let n = 0;
  let timer = null;
  let wake = null;
  let done = false;
  const finished = () => ({ value: undefined, done: true });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (done) return Promise.resolve(finished());
      const value = n++;
      const wait = start + value * everyMs - Date.now();
      if (wait <= 0) return Promise.resolve({ value, done: false });
      return new Promise((resolve) => {
        wake = resolve;
        timer = setTimeout(() => {
          wake = null;
          resolve({ value, done: false });
        }, wait);
      });
    },
    return() {
      done = true;
      clearTimeout(timer);
      if (wake) wake(finished());
      wake = null;
      return Promise.resolve(finished());
    },
    throw(err) {
      this.return();
      return Promise.reject(err);
    },
  };
}

module.exports = { ticks };
