-- sessions.lua - the known set of sessions t/metrics/run.sh counts:
-- 3 local deliveries from outside (continue), 2 relays from outside
-- (reject), 2 authenticated relays (continue), 1 outsider using a local
-- sender (continue; local_sender_spoof monitored).
local T = dofile(libdir .. "/common.lua")
T.tag = "metrics"
for i = 1, 3 do
	T.session({ ip = "203.0.113.5" }, { { "<user" .. i .. "@example.com>", "continue", "local " .. i } })
end
for i = 1, 2 do
	T.session({ ip = "203.0.113.5" }, { { "<x" .. i .. "@remote.test>", "reject", "relay " .. i } })
end
for i = 1, 2 do
	T.session({ ip = "203.0.113.6", auth = "alice" }, { { "<y" .. i .. "@remote.test>", "continue", "auth relay " .. i } })
end
local conn = T.open({ ip = "203.0.113.7" })
T.mail(conn, { from = "boss@example.com" })
T.rcpt(conn, "<user@example.com>", "continue", "monitored spoof")
mt.disconnect(conn)
T.done()
