"""pysiaalarm's asyncio TCP receiver (`SIAClient`) with a no-op callback, for comparison with
`xiaoan bench dc09 --to ADDR` and for the interop tests. pysiaalarm stores nothing: it sends
the ACK before it even calls the callback, so its figures are an upper bound for a receiver
that does no durable work.

    .venv/bin/python tests/interop/bench/pysia_receiver.py --port 9100 --accounts 1000
    target/release/xiaoan bench dc09 --to 127.0.0.1:9100 --accounts 1000 ...

Accounts: the bench accounts `B00000`…`B{n-1:05X}` (plain) plus the demo accounts 1111 (plain)
and 2222 (ASCII key AAAAAAAAAAAAAAAA). Prints `pysiaalarm receiver: HOST:PORT` when listening,
one `event ACCOUNT CODE` line per event with `--print`, and the event count when stopped
(SIGTERM or Ctrl-C)."""

import argparse
import asyncio
import logging
import signal
import sys

from pysiaalarm import SIAAccount
from pysiaalarm.aio import SIAClient, CommunicationsProtocol


def bench_account(i: int) -> str:
    return f"B{i:05X}"


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--udp", action="store_true")
    ap.add_argument("--print", action="store_true", help="print each event")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    accounts = [SIAAccount(bench_account(i), None) for i in range(args.accounts)]
    accounts += [SIAAccount("1111", None), SIAAccount("2222", "AAAAAAAAAAAAAAAA")]
    count = 0

    async def on_event(event) -> None:
        nonlocal count
        count += 1
        if args.print:
            print(f"event {event.account} {event.code}", flush=True)

    protocol = CommunicationsProtocol.UDP if args.udp else CommunicationsProtocol.TCP
    client = SIAClient(args.host, args.port, accounts, on_event, protocol=protocol)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with client:
        print(f"pysiaalarm receiver: {args.host}:{args.port}", flush=True)
        await stop.wait()
    print(f"events: {count}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
