"""One client address cannot take every websocket place (RUNIT_MAX_SESSIONS,
10,000 by default): RUNIT_WS_ADDR_MAX (256 by default) of them at most from
one address, counted by web_addrs.c. Before it, one host opening 10,000
idle websockets (unauthenticated: anonymous sessions are allowed) locked
everyone else out. Nor can it have the server read for it all the time:
its websockets together may send RUNIT_WS_ADDR_BYTES_S a second (after
four seconds' worth at once), and past that the server stops reading them
for a while (the sender waits on TCP). Addresses come through a trusted
proxy here (X-Forwarded-For from loopback), as they would behind a
balancer. Nor can it fill the database's queue, which everyone shares: a
session has at most 16 requests unanswered and an address
RUNIT_WS_ADDR_CALLS (64 by default); past that its messages wait unread.
Before, one anonymous socket sending requests as fast as it could made
everyone's wait past the pool's five seconds (UNAVAILABLE). Nor can it
hold the server's memory with messages it never finishes: one that comes
in pieces is whole within RUNIT_WS_MESSAGE_S or its socket is closed."""
import asyncio
import base64
import json
import os
import re
import time

from harness import DEADLINE_S, connect, http_get, result_of, run, wait_until

CAP = 20
EVIL, GOOD = "203.0.113.7", "198.51.100.9"


async def opened(server, ip):
    """An upgrade from ip: (status, writer); the writer holds an accepted
    websocket open until it is closed."""
    r, w = await asyncio.open_connection("127.0.0.1", server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    w.write((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
             f"X-Forwarded-For: {ip}\r\n\r\n").encode())
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), DEADLINE_S)
    status = int(head.split(b" ")[1])
    if status != 101:
        w.close()
    return status, w


def metric(server, name):
    text = http_get(server.url + "/metrics")[2].decode()
    return int(re.search(rf"^{name} (\d+)$", text, re.M).group(1))


def test_one_address_gets_at_most_its_share_of_websockets(make_server):
    srv = make_server(RUNIT_WS_ADDR_MAX=CAP, RUNIT_TRUSTED_PROXIES="127.0.0.1/32").start()
    url = srv.ws_url

    async def go():
        # all at once, twice the cap: exactly CAP get in, the rest get 429
        first = await asyncio.gather(*(opened(srv, EVIL) for _ in range(2 * CAP)))
        ins = [w for st, w in first if st == 101]
        codes = sorted(set(st for st, _ in first if st != 101))
        # the others are not affected: another address, and the proxy itself
        other = await connect(url, extra_headers={"X-Forwarded-For": GOOD})
        plain = await connect(url)
        hello = [result_of(await c.call("session/hello", {})) for c in (other, plain)]
        # five leave (one without a close): five places, not six
        for w in ins[:4]:
            w.close()
        ins[4].transport.abort()
        left = CAP - 5 + 2  # and the two others
        assert await asyncio.to_thread(
            wait_until, lambda: metric(srv, "runit_websockets_open") == left, DEADLINE_S)
        back = await asyncio.gather(*(opened(srv, EVIL) for _ in range(6)))
        again = [st for st, _ in back]
        refused = metric(srv, "runit_ws_refused_addr_total")
        for w in ins[5:] + [w for _, w in back]:
            w.close()
        return ins, codes, hello, again, refused

    ins, codes, hello, again, refused = run(go())
    assert len(ins) == CAP and codes == [429], (len(ins), codes)
    assert all("session" in h for h in hello)
    assert sorted(again) == [101] * 5 + [429], again
    assert refused == CAP + 1
    # every place comes back once they have all gone
    assert wait_until(lambda: metric(srv, "runit_websockets_open") == 0, DEADLINE_S)

    async def refill():
        got = await asyncio.gather(*(opened(srv, EVIL) for _ in range(CAP)))
        for _, w in got:
            w.close()
        return [st for st, _ in got]
    assert run(refill()) == [101] * CAP


def test_what_one_address_sends_is_paced_and_others_go_on(make_server):
    """Three sockets of one address send 7.5 MB at once, 1 MB a second
    allowed (4 MB of it at once): it takes them 2 s and more (3.2 s here;
    before the budget, well under 1 s), every message is still answered,
    and another address is answered meanwhile."""
    rate = 1 << 20
    srv = make_server(RUNIT_WS_ADDR_BYTES_S=rate, RUNIT_TRUSTED_PROXIES="127.0.0.1/32").start()
    pad = "a" * 500_000
    per_socket = 5

    async def flood(c):
        for i in range(per_socket):
            await c.ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "session/hello",
                                        "params": {"client": "flood", "pad": pad}}))
        got = 0
        while got < per_socket:
            if "id" in json.loads(await asyncio.wait_for(c.ws.recv(), DEADLINE_S)):
                got += 1
        return got

    async def go():
        floods = [await connect(srv.ws_url, extra_headers={"X-Forwarded-For": EVIL})
                  for _ in range(3)]
        good = await connect(srv.ws_url, extra_headers={"X-Forwarded-For": GOOD})
        t0 = time.monotonic()
        task = asyncio.ensure_future(asyncio.gather(*(flood(c) for c in floods)))
        answered = 0
        while not task.done():
            answered += "result" in await good.call("session/hello", {})
            await asyncio.sleep(0.2)
        got = await task
        return time.monotonic() - t0, got, answered

    took, got, answered = run(go())
    total = 3 * per_socket * len(pad)
    print(f"{total} bytes from one address took {took:.1f} s; the other address got "
          f"{answered} answers meanwhile")
    assert got == [per_socket] * 3
    # at least what is over four seconds' worth, less the last message of
    # each socket (read before its debt is paid)
    assert took >= (total - 4 * rate - 3 * len(pad)) / rate, took
    assert answered >= 5


def test_requests_of_one_address_wait_their_turn_and_others_are_answered(make_server):
    """One socket, then six of one address, send 1,500 gallery/list each
    without waiting (anonymous, each a query). The database's queue, read
    from /metrics all along, stays within the 16 of a session, then within
    the address's 24 (plus what was read before a socket was paused);
    without the limits it held thousands. Every request is answered, none
    with an error, and another address is answered meanwhile."""
    cap, per_socket = 24, 1500
    srv = make_server(RUNIT_WS_ADDR_CALLS=cap, RUNIT_TRUSTED_PROXIES="127.0.0.1/32").start()

    async def flood(c):
        for i in range(per_socket):
            # one project a page: 1,500 answers stay far below the slow
            # consumer's 8 MB, however many public projects the database holds
            await c.ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "gallery/list",
                                        "params": {"limit": 1}}))
        got = errors = 0
        while got < per_socket:
            m = json.loads(await asyncio.wait_for(c.ws.recv(), DEADLINE_S))
            if "id" in m:
                got += 1
                errors += "error" in m
        return got, errors

    async def phase(sockets):
        floods = [await connect(srv.ws_url, extra_headers={"X-Forwarded-For": EVIL})
                  for _ in range(sockets)]
        good = await connect(srv.ws_url, extra_headers={"X-Forwarded-For": GOOD})
        task = asyncio.ensure_future(asyncio.gather(*(flood(c) for c in floods)))
        queued, answers = [], []
        while not task.done():
            queued.append(await asyncio.to_thread(metric, srv, "runit_db_queries_queued"))
            answers.append(await good.call("gallery/list", {}))
        return await task, queued, answers

    for sockets, bound in ((1, 16), (6, cap + 6)):
        got, queued, answers = run(phase(sockets))
        print(f"{sockets} socket(s): the database queue held at most {max(queued)} "
              f"({len(queued)} samples); the other address got {len(answers)} answers")
        assert got == [(per_socket, 0)] * sockets, got
        assert max(queued) <= bound + 2, (max(queued), bound)  # + the other address's
        assert answers and all("result" in a for a in answers), answers[:3]
    assert metric(srv, "runit_ws_paused_calls_total") > 0


def test_a_message_in_pieces_is_whole_in_time_or_its_socket_closes(make_server):
    """RUNIT_WS_MESSAGE_S (3 here): ten clients each send the first
    100 KB fragment of a message and never the rest. Each is closed with
    4012, and counted; before, the server kept every such buffer (up to
    RUNIT_MAX_FRAME) for as long as the client answered pings. A message
    whose pieces come slowly but in time is answered, and so is another
    client meanwhile."""
    srv = make_server(RUNIT_WS_MESSAGE_S=3).start()
    msg = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "session/hello", "params": {}})
    msg = msg[:1] + " " * 100_000 + msg[1:]  # JSON may have that much space

    async def stuck_pieces(never):
        yield msg[:100_000]
        await never.wait()
        yield msg[100_000:]

    async def slow_pieces():
        for i in range(0, len(msg), len(msg) // 3 + 1):
            yield msg[i:i + len(msg) // 3 + 1]
            await asyncio.sleep(0.3)

    async def go():
        never = asyncio.Event()
        stuck = [await connect(srv.ws_url) for _ in range(10)]
        slow, other = await connect(srv.ws_url), await connect(srv.ws_url)
        sends = [asyncio.ensure_future(c.ws.send(stuck_pieces(never))) for c in stuck]
        await slow.ws.send(slow_pieces())
        answered = json.loads(await asyncio.wait_for(slow.ws.recv(), DEADLINE_S))
        closed = await asyncio.gather(*(c.read_until_closed() for c in stuck))
        hello = await other.call("session/hello", {})
        for t in sends:
            t.cancel()
        return answered, closed, hello

    answered, closed, hello = run(go())
    assert answered.get("id") == 1 and "result" in answered, answered
    assert [code for _, code in closed] == [4012] * 10, closed
    assert "result" in hello, hello
    assert metric(srv, "runit_ws_message_timeouts_total") == 10
