/* record.c: write and read recordings; see record.h. */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

struct record_writer {
    char dir[512];
    char pcap[600];
    int fd;
    cJSON *meta;
};

static int path_in(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

int record_open(struct record_writer **out, const char *dir, char *const *argv, char *err,
                size_t errlen)
{
    if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "cannot make the recording directory %s: %s", dir, strerror(e));
        return -e;
    }
    struct record_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -ENOMEM;
    char path[600];
    if (strlen(dir) >= sizeof w->dir || path_in(path, sizeof path, dir, RECORD_TIMELINE) != 0) {
        free(w);
        snprintf(err, errlen, "the recording directory's name is too long");
        return -ENAMETOOLONG;
    }
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    path_in(w->pcap, sizeof w->pcap, dir, RECORD_PCAP);
    unlink(w->pcap); /* a recording made anew has no old packets */
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (w->fd == -1) {
        int e = errno;
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        free(w);
        return -e;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    w->meta = cJSON_CreateObject();
    cJSON_AddNumberToObject(w->meta, "v", 1);
    char created[32];
    snprintf(created, sizeof created, "%llu",
             (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
    cJSON_AddRawToObject(w->meta, "created_ns", created);
    cJSON *args = cJSON_AddArrayToObject(w->meta, "argv");
    for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
        cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
    cJSON_AddNullToObject(w->meta, "capture");
    *out = w;
    return 0;
}

int record_line(struct record_writer *w, const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\0'))
        len--;
    if (len == 0 || len >= RECORD_LINE_MAX)
        return -EINVAL;
    char buf[RECORD_LINE_MAX];
    memcpy(buf, line, len);
    buf[len] = '\n';
    /* One write a line, so a reader never sees half of one. */
    ssize_t n = write(w->fd, buf, len + 1);
    return n == (ssize_t)(len + 1) ? 0 : -(n == -1 ? errno : EIO);
}

size_t record_segment_json(const struct segment *s, unsigned frame, char *buf, size_t size)
{
    static const char *const protos[] = {[6] = "tcp", [17] = "udp", [1] = "icmp", [58] = "icmpv6"};
    const char *proto =
        s->proto >= 0 && s->proto <= 58 && protos[s->proto] ? protos[s->proto] : "other";
    char flags[32] = "";
    if (s->proto == 6)
        capture_flags_text(s->flags, flags, sizeof flags);
    int n = snprintf(buf, size,
                     "{\"v\":1,\"kind\":\"packet\",\"ts_ns\":%llu,\"frame\":%u,\"proto\":\"%s\","
                     "\"src\":\"%s\",\"dst\":\"%s\",\"flags\":\"%s\",\"seq\":%u,\"ack\":%u,"
                     "\"win\":%u,\"len\":%u,\"ttl\":%u",
                     (unsigned long long)s->ts_ns, frame, proto, s->src, s->dst, flags, s->rel_seq,
                     s->rel_ack, s->window, s->len, s->ttl);
    if (n > 0 && (size_t)n < size && (s->proto == 1 || s->proto == 58))
        n += snprintf(buf + n, size - (size_t)n,
                      ",\"icmp_type\":%u,\"icmp_code\":%u,\"icmp_id\":%u,\"icmp_seq\":%u",
                      s->icmp_type, s->icmp_code, s->icmp_id, s->icmp_seq);
    if (n > 0 && (size_t)n + 1 < size) {
        buf[n++] = '}';
        buf[n] = '\0';
        return (size_t)n;
    }
    return 0;
}

int record_segment(struct record_writer *w, const struct segment *s, unsigned frame)
{
    char buf[1024];
    size_t n = record_segment_json(s, frame, buf, sizeof buf);
    return n ? record_line(w, buf, n) : -EINVAL;
}

const char *record_pcap_path(const struct record_writer *w)
{
    return w->pcap;
}

void record_set_capture(struct record_writer *w, const char *iface)
{
    cJSON_ReplaceItemInObject(w->meta, "capture",
                              iface ? cJSON_CreateString(iface) : cJSON_CreateNull());
}

int record_close(struct record_writer *w)
{
    if (w == NULL)
        return 0;
    char path[600];
    int rc = 0;
    char *text = cJSON_Print(w->meta);
    FILE *f = NULL;
    if (text == NULL || path_in(path, sizeof path, w->dir, RECORD_META) != 0 ||
        (f = fopen(path, "we")) == NULL || fprintf(f, "%s\n", text) < 0)
        rc = -EIO;
    if (f != NULL && fclose(f) != 0)
        rc = -EIO;
    free(text);
    if (close(w->fd) == -1 && rc == 0)
        rc = -errno;
    cJSON_Delete(w->meta);
    free(w);
    return rc;
}

/* --- reading ----------------------------------------------------------------- */

/* ts_ns exactly: a double (cJSON's numbers) keeps 53 bits, and
 * nanoseconds since 1970 need 61. Read the digits from the line itself. */
static uint64_t exact_ts(const char *line)
{
    const char *p = strstr(line, "\"ts_ns\":");
    return p != NULL ? strtoull(p + 8, NULL, 10) : 0;
}

static int add_entry(struct recording *r, size_t *cap, cJSON *obj, const char *line)
{
    if (r->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        struct record_entry *ne = realloc(r->entries, ncap * sizeof *ne);
        if (ne == NULL)
            return -ENOMEM;
        r->entries = ne;
        *cap = ncap;
    }
    struct record_entry *e = &r->entries[r->count++];
    e->obj = obj;
    e->ts_ns = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(obj, "ts_ns")) ? exact_ts(line) : 0;
    e->kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "kind"));
    if (e->kind == NULL)
        e->kind = "";
    return 0;
}

/* A small JSON file, whole (meta.json is a few hundred bytes). */
static cJSON *load_json_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return NULL;
    char buf[RECORD_LINE_MAX];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return n < sizeof buf ? cJSON_ParseWithLength(buf, n) : NULL;
}

int record_load(const char *dir, struct recording *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    char path[600];
    if (path_in(path, sizeof path, dir, RECORD_TIMELINE) != 0) {
        snprintf(err, errlen, "the recording directory's name is too long");
        return -ENAMETOOLONG;
    }
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        int e = errno;
        snprintf(err, errlen, "%s is not a recording: cannot read %s (%s)", dir, path, strerror(e));
        return -e;
    }
    size_t cap = 0, lineno = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &linecap, f)) != -1) {
        lineno++;
        if (line[n - 1] != '\n') {
            /* The recorder stopped mid-line: what is there is not whole. */
            r->cut_short = true;
            break;
        }
        cJSON *obj = n < RECORD_LINE_MAX ? cJSON_ParseWithLength(line, (size_t)n) : NULL;
        if (obj == NULL || !cJSON_IsObject(obj) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(obj, "kind"))) {
            cJSON_Delete(obj);
            if (r->corrupt++ == 0)
                r->first_corrupt = lineno;
            continue;
        }
        line[n - 1] = '\0';
        if ((rc = add_entry(r, &cap, obj, line)) != 0) {
            cJSON_Delete(obj);
            snprintf(err, errlen, "out of memory reading %s", path);
            break;
        }
    }
    free(line);
    fclose(f);
    if (rc != 0) {
        record_free(r);
        return rc;
    }
    if (path_in(path, sizeof path, dir, RECORD_PCAP) == 0)
        r->has_pcap = access(path, R_OK) == 0;
    if (path_in(path, sizeof path, dir, RECORD_META) == 0) {
        r->meta = load_json_file(path);
        r->has_meta = r->meta != NULL;
    }
    return 0;
}

const char *record_problems(const struct recording *r, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    if (r->cut_short)
        o += (size_t)snprintf(buf + o, size - o,
                              "the recording was cut short: its last line is incomplete and left "
                              "out. ");
    if (r->corrupt && o < size)
        o += (size_t)snprintf(buf + o, size - o,
                              "%zu corrupt line%s skipped (the first is line %zu). ", r->corrupt,
                              r->corrupt == 1 ? "" : "s", r->first_corrupt);
    if (!r->has_pcap && o < size)
        o += (size_t)snprintf(buf + o, size - o, "no packets.pcap: replaying without packets. ");
    if (!r->has_meta && o < size)
        snprintf(buf + o, size - o, "no meta.json. ");
    return buf;
}

void record_free(struct recording *r)
{
    for (size_t i = 0; i < r->count; i++)
        cJSON_Delete(r->entries[i].obj);
    free(r->entries);
    cJSON_Delete(r->meta);
    memset(r, 0, sizeof *r);
}

const char *record_str(const struct record_entry *e, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e->obj, key));
}

long long record_int(const struct record_entry *e, const char *key, long long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e->obj, key);
    if (!cJSON_IsNumber(v))
        return dflt;
    /* A broken line may say 1e300: out of a long long's range is no value. */
    double d = v->valuedouble;
    return d >= -9.2e18 && d <= 9.2e18 ? (long long)d : dflt;
}
