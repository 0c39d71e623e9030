/*
 * rng.h - xorshift64 for the random tests: reproducible without depending
 * on rand()'s quality; a test may set rng_state to its own seed.
 */
#ifndef RM_T_RNG_H
#define RM_T_RNG_H

#include <stdint.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static inline uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

#endif
