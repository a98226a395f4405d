/*
 * record.h: recordings of a session, written and read back.
 *
 * The format is in docs/recording-format.md: a directory with the session
 * timeline (timeline.jsonl), the packets (packets.pcap) and what was
 * recorded (meta.json). Writing appends whole lines; reading keeps every
 * entry it can and reports what it could not (a line cut short, a corrupt
 * line, a missing file), so a damaged recording still replays.
 *
 * Entries are parsed with cJSON, which reads a 100,000-entry recording
 * several times faster than jansson does. Nothing here prints or exits.
 */
#ifndef SOCKSCOPE_RECORD_H
#define SOCKSCOPE_RECORD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

#define RECORD_TIMELINE "timeline.jsonl"
#define RECORD_PCAP "packets.pcap"
#define RECORD_META "meta.json"
/* A line longer than this is corrupt: no entry is this large. */
#define RECORD_LINE_MAX (64 * 1024)

/* --- writing ---------------------------------------------------------------- */

struct record_writer;

/* Create DIR (0700) if needed and start its timeline anew. `argv` (may be
 * NULL) goes into meta.json. Returns 0, or a negative errno with a
 * sentence in `err`. */
int record_open(struct record_writer **out, const char *dir, char *const *argv, char *err,
                size_t errlen);

/* Append one entry: `line` is a JSON object (`len` bytes, a trailing
 * newline optional). Returns 0 or a negative errno. */
int record_line(struct record_writer *w, const char *line, size_t len);

/* Append a packet entry for segment `s`, frame number `frame` of the pcap
 * file. */
int record_segment(struct record_writer *w, const struct segment *s, unsigned frame);

/* The path of the pcap file to write packets to, for capture_save. */
const char *record_pcap_path(const struct record_writer *w);

/* Say in meta.json which interface packets came from (NULL: none). */
void record_set_capture(struct record_writer *w, const char *iface);

/* Write meta.json and close everything. */
int record_close(struct record_writer *w);

/* Write segment `s` as one JSON object line (no newline) into `buf`. */
size_t record_segment_json(const struct segment *s, unsigned frame, char *buf, size_t size);

/* --- reading ---------------------------------------------------------------- */

struct record_entry {
    cJSON *obj;       /* the entry (owned by the recording) */
    uint64_t ts_ns;   /* exact, read from the line (not through a double) */
    const char *kind; /* points into obj */
};

struct recording {
    struct record_entry *entries;
    size_t count;
    size_t corrupt;       /* lines skipped */
    size_t first_corrupt; /* the first one's line number, from 1 */
    bool cut_short;       /* the last line had no newline: left out */
    bool has_pcap, has_meta;
    cJSON *meta; /* NULL when missing */
};

/* Read DIR. Returns 0 (see the counters for what was skipped) or a
 * negative errno with a sentence in `err` when the timeline cannot be
 * read at all. */
int record_load(const char *dir, struct recording *r, char *err, size_t errlen);

/* One sentence about what was skipped, or "" when nothing was. */
const char *record_problems(const struct recording *r, char *buf, size_t size);

void record_free(struct recording *r);

/* A string field of an entry, or NULL. */
const char *record_str(const struct record_entry *e, const char *key);

/* A number field of an entry, or `dflt`. Exact up to 2^53: use ts_ns for
 * the time. */
long long record_int(const struct record_entry *e, const char *key, long long dflt);

#endif
