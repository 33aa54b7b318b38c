# A QUIC client with aioquic (a QUIC implementation in Python, nothing of the course's),
# against the course's quic-server: one connection, every line of stdin on a stream of
# its own, all at once; prints the echoes in order.
# Usage: python3 quic_client.py HOST PORT CA_FILE NAME
import asyncio
import sys

from aioquic.asyncio import connect
from aioquic.quic.configuration import QuicConfiguration


async def echo(client, text):
    reader, writer = await client.create_stream()
    writer.write(text.encode("utf-8"))
    writer.write_eof()
    return (await reader.read()).decode("utf-8")


async def main():
    host, port, ca_file, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    config = QuicConfiguration(
        is_client=True, alpn_protocols=["course-echo"], server_name=name
    )
    config.load_verify_locations(ca_file)
    lines = [line.rstrip("\n") for line in sys.stdin]
    async with connect(host, port, configuration=config) as client:
        echoes = await asyncio.wait_for(
            asyncio.gather(*(echo(client, line) for line in lines)), 10
        )
        for text in echoes:
            print(text)


asyncio.run(main())
