#!/usr/bin/env python3
"""t/fault/smtpc.py - SMTP clients for the fault tests.

  smtpc.py step PORT SRC STOP READY GO
      One session from address SRC: greeting, EHLO, MAIL, RCPT local,
      RCPT remote, DATA if a recipient was accepted, QUIT.  After the
      STOP step (connect, helo, mail, rcpt1) it creates the file READY and
      waits for the file GO before it goes on.  Prints one line per reply:
      "STEP CODE TEXT" (CODE is EOF when the server hung up).

  smtpc.py load PORT SRC SESSIONS CONCURRENCY
      SESSIONS such sessions, CONCURRENCY at a time.  Prints one line per
      session: "N GREET MAIL LOCAL REMOTE DATA | REMOTE-TEXT", each field
      a reply code, "-" when the step was not reached, EOF when the server
      hung up, ERR on a connection error.  With SMTPC_HOLD=FILE in the
      environment each session waits after EHLO until FILE exists.

  In the environment SMTPC_FROM, SMTPC_LOCAL and SMTPC_REMOTE replace the
  sender and the two recipients, and SMTPC_AUTH=LOGIN:PASSWORD makes each
  session authenticate (AUTH PLAIN) after EHLO; when that fails, load's
  MAIL field is "A" and the AUTH reply code.

Nothing here interprets the answers: the shell tests do.
"""
import asyncio
import base64
import os
import sys
import time

LOCAL = os.environ.get("SMTPC_LOCAL", "user@testbed.test")
REMOTE = os.environ.get("SMTPC_REMOTE", "user@remote.test")
SENDER = os.environ.get("SMTPC_FROM", "friend@remote.test")
AUTH = os.environ.get("SMTPC_AUTH")
TIMEOUT = 60


class Hangup(Exception):
    pass


async def reply(reader):
    """The last line of one (possibly multi-line) reply: (code, text)."""
    while True:
        line = await asyncio.wait_for(reader.readline(), TIMEOUT)
        if not line:
            raise Hangup()
        line = line.decode("latin-1").rstrip("\r\n")
        if len(line) < 4 or line[3] != "-":
            return line[:3], line[4:]


async def cmd(reader, writer, text):
    writer.write(text.encode() + b"\r\n")
    await writer.drain()
    return await reply(reader)


async def dialogue(port, src, pause=None):
    """Run one session; pause(step) is awaited after each step."""
    got = {}
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, local_addr=(src, 0)),
        TIMEOUT)
    try:
        steps = [("connect", None), ("helo", "EHLO client.example")]
        if AUTH is not None:
            login, _, password = AUTH.partition(":")
            token = base64.b64encode(("\0%s\0%s" % (login, password))
                                     .encode()).decode()
            steps.append(("auth", "AUTH PLAIN " + token))
        steps += [("mail", "MAIL FROM:<%s>" % SENDER),
                 ("rcpt1", "RCPT TO:<%s>" % LOCAL),
                 ("rcpt2", "RCPT TO:<%s>" % REMOTE)]
        for step, text in steps:
            if text is None:
                got[step] = await reply(reader)
            else:
                got[step] = await cmd(reader, writer, text)
            if pause is not None:
                await pause(step, got[step])
            if not got[step][0].startswith("2") and step in ("connect",
                                                             "helo",
                                                             "auth",
                                                             "mail"):
                break
        if "250" in (got.get("rcpt1", ("",))[0], got.get("rcpt2", ("",))[0]):
            code = (await cmd(reader, writer, "DATA"))
            if code[0] == "354":
                writer.write(b"Subject: fault test\r\n\r\nbody\r\n.\r\n")
                await writer.drain()
                code = await reply(reader)
            got["data"] = code
            if pause is not None:
                await pause("data", code)
        got["quit"] = await cmd(reader, writer, "QUIT")
    except Hangup:
        got["eof"] = ("EOF", "")
    finally:
        writer.close()
    return got


async def wait_for(path):
    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(path) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def step_main(port, src, stop, ready, go):
    async def pause(step, code):
        print(step, code[0], code[1], flush=True)
        if step == stop:
            open(ready, "w").close()
            await wait_for(go)

    got = await dialogue(port, src, pause)
    if "eof" in got:
        print("eof EOF", flush=True)


async def load_main(port, src, n, conc):
    sem = asyncio.Semaphore(conc)
    hold = os.environ.get("SMTPC_HOLD")

    async def pause(step, code):
        if hold and step == "helo":
            await wait_for(hold)

    async def one(i):
        async with sem:
            try:
                got = await dialogue(port, src, pause)
            except (OSError, asyncio.TimeoutError) as e:
                return "%d ERR - - - - | %s" % (i, type(e).__name__)
        hung = "eof" in got
        if "auth" in got and got["auth"][0] != "235":
            got["mail"] = ("A" + got["auth"][0], got["auth"][1])
        fields = []
        for k in ("connect", "mail", "rcpt1", "rcpt2", "data"):
            if k in got:
                fields.append(got[k][0])
            else:
                fields.append("EOF" if hung else "-")
                hung = False
        return "%d %s | %s" % (i, " ".join(fields),
                               got.get("rcpt2", ("", ""))[1])

    for line in await asyncio.gather(*(one(i) for i in range(n))):
        print(line)


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "step":
        asyncio.run(step_main(int(sys.argv[2]), sys.argv[3], sys.argv[4],
                              sys.argv[5], sys.argv[6]))
    elif len(sys.argv) == 6 and sys.argv[1] == "load":
        asyncio.run(load_main(int(sys.argv[2]), sys.argv[3],
                              int(sys.argv[4]), int(sys.argv[5])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
