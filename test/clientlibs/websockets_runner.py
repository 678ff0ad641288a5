"""Runs N clients of Python's websockets 10.4 (Debian's python3-websockets
10.4-1) for the differential test of wsstorm's client presets
(test/clientlibs). Each client is the loop the library documents for
reconnecting: `async for websocket in connect(uri)`, reading until the
connection closes and going on with the loop on ConnectionClosed; every
other setting is the library's default. Each connects to URL?client=PREFIX<i>
(i from 0); the server times every attempt. It ends after --duration-s or on
SIGTERM.

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


async def main(args):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    tasks = []
    for i in range(args.clients):
        sep = "&" if "?" in args.url else "?"
        tasks.append(asyncio.create_task(client(f"{args.url}{sep}client={args.prefix}{i}")))
        await asyncio.sleep(args.ramp_s / args.clients)
    await asyncio.wait([stop], timeout=args.duration_s)
    for t in tasks:
        t.cancel()


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
