-- grants.lua - relay grants in the daemon (t/grants/run.sh, redis.sh).
--   -D phase=NAME: what to send, to the daemon at
--   -D socket=SPEC, from the client 203.0.113.9
local T = dofile(libdir .. "/common.lua")
T.tag = "grants-" .. (phase or "x")

local msg, ip = T.message, "203.0.113.9"

if phase == "refused" then
	msg({ ip = ip, macros = T.listener("mx-in", ip) }, {
		{ "<r1@remote.test>", "reject", "no grant: relaying refused" } })
elseif phase == "granted" then
	msg({ ip = ip, macros = T.listener("mx-in", ip) }, {
		{ "<g1@remote.test>", "continue", "granted: the relay continues" },
		{ "<u@example.com>", "continue", "a local recipient as ever" } })
elseif phase == "unavailable" then
	msg({ ip = ip, macros = T.listener("mx-in", ip) }, {
		{ "<t1@remote.test>", "tempfail", "the grants cannot be read: 451" } })
elseif phase == "submission" then
	msg({ ip = ip, macros = T.listener("submission", ip) }, {
		{ "<s1@remote.test>", "reject", "grants = false on submission" } })
elseif phase == "spoof" then
	msg({ ip = ip, from = "bob@example.com", macros = T.listener("mx-in", ip) }, {
		{ "<p1@remote.test>", "reject", "granted, yet a sender of ours is refused",
		  { code = "553" } } })
elseif phase == "denied" then
	msg({ ip = "198.51.100.66", macros = T.listener("mx-in", "198.51.100.66") }, {
		{ "<d1@remote.test>", "reject", "deny beats a grant", { code = "554" } } })
end
T.done()
