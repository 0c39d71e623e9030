-- redis.lua - limits counted in a Redis two daemons share (t/limits/redis.sh).
--   -D phase=NAME: what to send, to the daemon at -D socket=SPEC
--   -D who=LOGIN, -D n=N, -D want=continue|tempfail: the "one" phase, N
--   recipients of LOGIN, each with that answer
local T = dofile(libdir .. "/common.lua")
T.tag = "redis-" .. (phase or "x")

local msg, locking = T.message, T.listener("locking")

if phase == "a" then
	msg({ auth = "alice" }, {
		{ "<a1@remote.test>", "continue", "A: alice 1 of 4" },
		{ "<a2@remote.test>", "continue", "A: alice 2 of 4" } })
elseif phase == "b" then
	msg({ auth = "alice" }, {
		{ "<a3@remote.test>", "continue", "B: alice 3 of 4" },
		{ "<a4@remote.test>", "continue", "B: alice 4 of 4" },
		{ "<a5@remote.test>", "tempfail", "B: alice's 5th: 451, the budget spent across A and B" } })
	msg({ auth = "bob" }, {
		{ "<b1@remote.test>", "continue", "B: another login is unaffected" } })
elseif phase == "a-over" then
	msg({ auth = "alice" }, {
		{ "<a6@remote.test>", "tempfail", "A: alice over on A too" } })
elseif phase == "lock" then
	msg({ auth = "carol", macros = locking }, {
		{ "<c1@remote.test>", "continue", "B: carol 1" },
		{ "<c2@remote.test>", "continue", "B: carol 2" },
		{ "<c3@remote.test>", "tempfail", "B: carol 3 trips: locked" } })
elseif phase == "locked" then
	msg({ auth = "carol", macros = locking }, {
		{ "<c4@remote.test>", "tempfail", "A: carol is locked here too" } })
elseif phase == "lifted" then
	msg({ auth = "carol", macros = locking }, {
		{ "<c5@remote.test>", "continue", "B: lifted through A: carol sends" } })
elseif phase == "one" then
	local r = {}
	for i = 1, tonumber(n) do
		r[#r + 1] = { string.format("<%s%d@remote.test>", who, i), want,
		              string.format("%s %d: %s", who, i, want) }
	end
	msg({ auth = who }, r)
end
T.done()
