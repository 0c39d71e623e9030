-- limits.lua - limits, max_recipients and deny.logins through the daemon
-- (t/limits/run.sh starts it with t/limits/relaymilter.conf).
--   -D phase=first: a login relays up to its limit (3 recipients an
--   hour), the next gets 451; local recipients are not counted; another
--   login is unaffected; max_recipients; deny.logins; a lock-out.
--   -D phase=after-reload: the counters survived the reload.
--   -D phase=after-lift: the locked login sends again.
local T = dofile(libdir .. "/common.lua")
T.tag = "limits-" .. (phase or "first")

local msg, locking = T.message, T.listener("locking")

if phase == "first" then
	msg({ auth = "alice" }, {
		{ "<a1@remote.test>", "continue", "alice relays 1" },
		{ "<u1@example.com>", "continue", "a local recipient is not counted" },
		{ "<a2@remote.test>", "continue", "alice relays 2" } })
	msg({ auth = "Alice" }, {
		{ "<a3@remote.test>", "continue", "alice relays 3 (case ignored)" },
		{ "<a4@remote.test>", "tempfail", "alice's 4th relay: 451 4.7.1" },
		{ "<u2@example.com>", "continue", "alice still sends locally" } })
	msg({ auth = "bob" }, {
		{ "<b1@remote.test>", "continue", "another login is unaffected" } })
	-- max_recipients = 5: the 6th let through is refused, 452 4.5.3
	msg({ ip = "192.0.2.10" }, {
		{ "<m1@example.com>", "continue", "max 1" },
		{ "<m2@example.com>", "continue", "max 2" },
		{ "<m3@example.com>", "continue", "max 3" },
		{ "<m4@example.com>", "continue", "max 4" },
		{ "<m5@example.com>", "continue", "max 5" },
		{ "<m6@example.com>", "tempfail", "max_recipients: the 6th, 452",
		  { code = "452" } } })
	msg({ auth = "mallory@example.com" }, {
		{ "<x@remote.test>", "reject", "deny.logins: 550" } })
	-- the locking listener: 2 an hour, then locked for a day
	msg({ auth = "carol", macros = locking }, {
		{ "<c1@remote.test>", "continue", "carol 1" },
		{ "<c2@remote.test>", "continue", "carol 2" },
		{ "<c3@remote.test>", "tempfail", "carol 3: trips, locked" } })
elseif phase == "after-reload" then
	msg({ auth = "alice" }, {
		{ "<a5@remote.test>", "tempfail", "after a reload, alice is still over" } })
	msg({ auth = "bob" }, {
		{ "<b2@remote.test>", "continue", "after a reload, bob has room" } })
	msg({ auth = "carol", macros = locking }, {
		{ "<c4@remote.test>", "tempfail", "carol stays locked" } })
elseif phase == "after-lift" then
	msg({ auth = "carol", macros = locking }, {
		{ "<c5@remote.test>", "continue", "lifted: carol sends again" } })
end
T.done()
