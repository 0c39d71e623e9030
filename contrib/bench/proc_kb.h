/*
 * proc_kb.h - the benchmark programs' reading of their own memory.
 */
#ifndef RM_BENCH_PROC_KB_H
#define RM_BENCH_PROC_KB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* proc_kb - a "Vm...:" line of /proc/self/status (VmRSS, VmHWM), in kB;
 * -1 when there is none. */
static inline long
proc_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *fp = fopen("/proc/self/status", "r");

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return v;
}

#endif
