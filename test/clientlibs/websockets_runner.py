"""Runs N clients of Python's websockets 10.4 (Debian's python3-websockets
10.4-1) for the differential test of wsstorm's client presets
(test/clientlibs). Each client is the loop the library documents for
reconnecting: `async for websocket in connect(uri)`, reading until the
connection closes and going on with the loop on ConnectionClosed; every
other setting is the library's default. Each connects to URL?client=PREFIX<i>
(i from 0); the server times every attempt. At its end it prints how late
its event loop ran (a line "loop lag: ..."); it ends after --duration-s or
on SIGTERM.

    /usr/bin/python3 websockets_runner.py --url ws://127.0.0.1:PORT/ws \
        --clients 100 --prefix L --ramp-s 5 --duration-s 300
"""

import argparse
import asyncio
import signal
import sys

import websockets

WANT = "10.4"


async def client(uri):
    async for websocket in websockets.connect(uri):
        try:
            async for _ in websocket:
                pass
        except websockets.ConnectionClosed:
            continue


async def watch_lag(lags, every=0.01):
    # How late the event loop wakes a sleeper: a busy machine makes every
    # reconnect late by about as much, which the harness's log shows.
    loop = asyncio.get_running_loop()
    while True:
        t = loop.time()
        await asyncio.sleep(every)
        lags.append(loop.time() - t - every)


def lag_line(lags):
    if not lags:
        return "loop lag: none measured"
    s = sorted(lags)
    ms = lambda q: s[min(len(s) - 1, int(q * len(s)))] * 1000
    return f"loop lag: p50 {ms(0.5):.1f} ms, p99 {ms(0.99):.1f} ms, max {s[-1] * 1000:.1f} ms"


async def main(args):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    lags = []
    watcher = asyncio.create_task(watch_lag(lags))
    tasks = []
    for i in range(args.clients):
        sep = "&" if "?" in args.url else "?"
        tasks.append(asyncio.create_task(client(f"{args.url}{sep}client={args.prefix}{i}")))
        await asyncio.sleep(args.ramp_s / args.clients)
    await asyncio.wait([stop], timeout=args.duration_s)
    for t in tasks:
        t.cancel()
    watcher.cancel()
    print(lag_line(lags), file=sys.stderr)


if __name__ == "__main__":
    if websockets.__version__ != WANT:
        sys.exit(f"websockets_runner.py: websockets {websockets.__version__} is here, the preset follows {WANT}")
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--prefix", default="L")
    p.add_argument("--ramp-s", type=float, default=0)
    p.add_argument("--duration-s", type=float, default=60)
    asyncio.run(main(p.parse_args()))
