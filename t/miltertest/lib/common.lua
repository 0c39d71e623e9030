-- common.lua - helpers shared by the miltertest scripts (loaded with dofile).
--
-- The scripts get their parameters from miltertest -D:
--   socket=unix:/path   where relaymilter listens (required)
--   libdir=DIR          this directory (run.sh passes it)
--
-- Results are printed as TAP-like lines that run.sh collects:
--   "ok - NAME" / "not ok - NAME: detail"
--   "#expect-log<TAB>SENDER<TAB>RCPT<TAB>CODE"  the daemon's decision log must
--       have a line for this sender and recipient with reply="CODE ..." (or
--       reply="-" for CODE "-").  miltertest cannot show the text of an
--       SMFIR_REPLYCODE reply, so the SMTP code (550 vs 451) is checked there.
--
-- Things about miltertest (OpenDKIM 2.11) that shape these helpers:
--   * relaymilter negotiates SMFIP_NR_CONN/HELO.  miltertest honours the
--     flags: it does not wait for a reply after conninfo/helo and
--     mt.getreply() then returns SMFIR_CONTINUE, a value it made up.  The
--     MAIL and RCPT replies are real answers from the milter.
--   * SMFIP_NOHDRS/NOEOH/NOBODY/NODATA are negotiated away: mt.header(),
--     mt.eoh(), mt.bodystring() and mt.data() raise a Lua error.
--   * mt.macro() sends the macro packet at once and replaces that stage's
--     macros; call it before the step, once per stage, with every macro.
--   * a Lua error() makes miltertest exit 1 without printing the message:
--     T.fatal() echoes it first.
--   * arguments are copied into a 1024-byte buffer: mt.rcptto()/mt.macro()
--     refuse longer input, mt.helo() with more than 1 KiB crashes miltertest
--     itself (stack overflow, abort).  10 KiB arguments go through
--     lib/rawclient.pl instead.

local T = { failed = 0, passed = 0, seq = 0 }

T.sock = socket
if T.sock == nil then
	mt.echo("not ok - no -D socket=... given")
	error("no socket")
end

function T.fatal(msg)
	mt.echo("not ok - " .. msg)
	error(msg)
end

function T.result(ok, name, detail)
	if ok then
		T.passed = T.passed + 1
		mt.echo("ok - " .. name)
	else
		T.failed = T.failed + 1
		mt.echo("not ok - " .. name .. (detail and (": " .. detail) or ""))
	end
	return ok
end

local function rname(r)
	if r == nil then return "nil" end
	if r == 0 then return "NUL" end
	return "'" .. string.char(math.floor(r)) .. "'"
end
T.rname = rname

-- step: a protocol call must return nil (no error string).
local function step(what, err)
	if err ~= nil then T.fatal(what .. " failed: " .. tostring(err)) end
end

-- T.connect() -> conn; mt.connect raises a Lua error (printed by nobody)
-- when the socket does not answer, so catch it
function T.connect()
	local ok, conn = pcall(mt.connect, T.sock, 40, 0.05)
	if not ok or conn == nil then
		T.fatal("mt.connect(" .. T.sock .. ") failed: " .. tostring(conn))
	end
	return conn
end

-- T.open{ip=, host=, macros={...}, helo=} -> conn
--   ip: "192.0.2.5", "2001:db8::1", "::ffff:192.0.2.5" or "unspec" (no address)
--   macros: connect-stage macros as a flat list {"name", "value", ...};
--           by default j, _, {daemon_name} and {client_addr} = ip
function T.open(o)
	local conn = T.connect()
	local host = o.host or "client.test"
	local m = o.macros
	if m == nil then
		m = { "j", "mx.example.com", "_", host .. " [" .. o.ip .. "]",
		      "{daemon_name}", "mx-in" }
		if o.ip ~= "unspec" then
			m[#m + 1] = "{client_addr}"
			m[#m + 1] = o.ip
		end
	end
	if #m > 0 then step("macro connect", mt.macro(conn, SMFIC_CONNECT, table.unpack(m))) end
	step("conninfo " .. o.ip, mt.conninfo(conn, host, o.ip))
	if o.helo ~= false then
		step("helo", mt.helo(conn, o.helo or ("helo." .. host)))
	end
	return conn
end

-- T.mail(conn, opts) starts a message; returns the sender used.
--   opts.auth: {auth_authen} value; opts.macros: replaces the default list
--   opts.want: "continue" or "reject": check the MAIL reply (opts.name)
function T.mail(conn, o)
	o = o or {}
	T.seq = T.seq + 1
	local from = o.from or string.format("m-%03d-%s@sender.test", T.seq, T.tag or "x")
	local m = o.macros
	if m == nil then
		m = { "i", string.format("Q%06d", T.seq), "{mail_addr}", from }
		if o.auth then
			m[#m + 1] = "{auth_authen}"; m[#m + 1] = o.auth
			m[#m + 1] = "{auth_type}"; m[#m + 1] = "PLAIN"
		end
	end
	step("macro mail", mt.macro(conn, SMFIC_MAIL, table.unpack(m)))
	step("mailfrom", mt.mailfrom(conn, "<" .. from .. ">"))
	T.from = from
	if o.want then
		local r = mt.getreply(conn)
		local want = o.want == "continue" and SMFIR_CONTINUE or SMFIR_REPLYCODE
		T.result(r == want, o.name or "mail", "reply " .. rname(r))
		if r == want and o.code then
			mt.echo(string.format("#expect-log\t%s\t<->\t%s\t%s", from, o.code, o.name or "mail"))
		end
	end
	return from
end

local want_reply = {
	continue = SMFIR_CONTINUE,
	reject = SMFIR_REPLYCODE,
	tempfail = SMFIR_REPLYCODE,
}
local want_code = { continue = "-", reject = "550", tempfail = "451" }

-- T.rcpt(conn, rcpt, want, name[, opts])
--   want: "continue" | "reject" (550 via SMFIR_REPLYCODE) |
--         "tempfail" (451 via SMFIR_REPLYCODE) | "answered" (any reply)
--   rcpt is sent as given (put the angle brackets in yourself)
--   opts.macros: rcpt-stage macros (default {rcpt_addr}, {rcpt_mailer})
--   opts.nolog: do not ask run.sh to check the log line
--   opts.code: the SMTP code the log line must show (default by want)
function T.rcpt(conn, rcpt, want, name, o)
	o = o or {}
	local m = o.macros or { "{rcpt_addr}", rcpt:gsub("^<(.*)>$", "%1"), "{rcpt_mailer}", "smtp" }
	if #m > 0 then step("macro rcpt", mt.macro(conn, SMFIC_RCPT, table.unpack(m))) end
	local err = mt.rcptto(conn, rcpt)
	if err ~= nil then
		return T.result(false, name, "mt.rcptto: " .. tostring(err))
	end
	local r = mt.getreply(conn)
	if want == "answered" then
		return T.result(r == SMFIR_CONTINUE or r == SMFIR_REPLYCODE or
		    r == SMFIR_REJECT or r == SMFIR_TEMPFAIL, name, "reply " .. rname(r))
	end
	local ok = T.result(r == want_reply[want], name,
	    "reply " .. rname(r) .. ", want " .. rname(want_reply[want]) .. " (" .. want .. ")")
	if ok and not o.nolog and T.from then
		mt.echo(string.format("#expect-log\t%s\t%s\t%s\t%s", T.from, rcpt, o.code or want_code[want], name))
	end
	return ok
end

-- T.session: open, one message, one or more recipients, disconnect.
--   T.session({ip=..., auth=...}, {{rcpt, want, name}, ...})
function T.session(o, rcpts)
	local conn = T.open(o)
	T.mail(conn, { auth = o.auth })
	for _, c in ipairs(rcpts) do T.rcpt(conn, c[1], c[2], c[3], c[4]) end
	mt.disconnect(conn)
end

-- T.listener(name[, ip]): connect macros for the listener profile name
function T.listener(name, ip)
	ip = ip or "203.0.113.5"
	return { "j", "mx.example.com", "_", "c.test [" .. ip .. "]",
	         "{daemon_name}", name, "{client_addr}", ip }
end

-- T.message: like T.session, with connect macros of its own (o.macros)
-- and a default client address.
--   T.message({auth=..., ip=..., macros=...}, {{rcpt, want, name}, ...})
function T.message(o, rcpts)
	local conn = T.open({ ip = o.ip or "203.0.113.5", macros = o.macros })
	T.mail(conn, { auth = o.auth, from = o.from })
	for _, c in ipairs(rcpts) do T.rcpt(conn, c[1], c[2], c[3], c[4]) end
	mt.disconnect(conn)
end

function T.done()
	mt.echo(string.format("# %s: %d passed, %d failed", T.tag or "script", T.passed, T.failed))
	if T.failed > 0 then error("failures") end
end

return T
