/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The zone's signals, measured by its agent every second and sent to the
 * supervisor as a "sample" event: what switching rules compare
 * (lib/cz_auto.h) and what the host exports. Names are the rules' signal
 * names (cz_zone_signals[]).
 */
#ifndef __CZ_AGENT_SAMPLE_H
#define __CZ_AGENT_SAMPLE_H

struct json_object;

/* Every 200 ms: the runnable count, averaged into the next sample. */
void sample_poll(void);
/*
 * The sample since the last one, as {"cpu.util":..., ...}; the first
 * call only sets the counters' base and returns NULL.
 */
struct json_object *sample_take(void);

#endif /* __CZ_AGENT_SAMPLE_H */
