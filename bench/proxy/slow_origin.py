"""bench/proxy's origin 10 ms away: answers every request after DELAY
seconds with a 1 KiB no-store body (the miss path: no cache keeps it).
asyncio in one process, so the delay, not the origin's own cost, is what
a client waits for. Usage: slow_origin.py PORT DELAY"""

import asyncio
import sys

BODY = b"x" * 1024
HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Cache-Control: no-store\r\nContent-Length: %d\r\n\r\n" % len(BODY))


async def serve(reader, writer, delay):
    try:
        for _ in range(10000000):
            head = await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(delay)
            writer.write(HEAD + BODY)
            await writer.drain()
            if b"connection: close" in head.lower():
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    writer.close()


async def main(port, delay):
    server = await asyncio.start_server(lambda r, w: serve(r, w, delay), "127.0.0.1", port,
                                        reuse_address=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))
