/*
 * spawn.h - run a command without a shell and without waiting for it
 * (limits' on_lock).
 */
#ifndef RM_SPAWN_H
#define RM_SPAWN_H

#include <stddef.h>

/*
 * rm_spawn - run argv[0] (an absolute path) with argv, each "%l" in an
 * argument replaced by limit, "%k" by key and "%%" by "%", and
 * RELAYMILTER_LIMIT and RELAYMILTER_KEY in its environment.  It runs in a
 * grandchild (the child exits at once and is reaped here), so the caller
 * never waits for it.  0 once the command was started, or -1 with the
 * reason in err (it could not be started, or execve failed).
 */
int rm_spawn(char *const argv[], const char *limit, const char *key, char *err,
             size_t errlen);

#endif
