/* master_setup.c - what wk-master settles before it forks (wk-master(8)):
 * the generated manager token, the shard counts of existing data, the log
 * file of a detached tree, the addresses it announces, a config good
 * enough to find a running tree when wk.yaml does not parse, and the
 * statistics segment. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "master.h"
#include "wk_alloc.h"
#include "wk_fs.h"
#include "wk_log.h"
#include "wk_shard.h"

/* With no managerToken and managerTokenOn (the default), make sure
 * <rootDir>/managerToken exists (32 random bytes as hex, mode 0600): wk-api
 * requires it on admin routes from clients not on loopback.  Its path is
 * logged, never its contents. */
int
master_manager_token(struct master *m)
{
	char *path, hex[65];
	unsigned char raw[32];
	int fd;

	if (m->cfg.managerToken[strspn(m->cfg.managerToken, " \t\r\n")] != '\0')
		return 0;
	if (!m->cfg.managerTokenOn) {
		wk_log_warnx("managerTokenOn is false and no managerToken is set: the HTTP API "
		    "at %s is open to anyone who can reach it", m->cfg.httpAddr);
		return 0;
	}
	path = wk_asprintf("%s/managerToken", m->cfg.rootDir);
	if (access(path, R_OK) == 0) {
		wk_log_info("admin routes need the manager token in %s from non-loopback clients",
		    path);
		free(path);
		return 0;
	}
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		wk_log_warn("getrandom");
		free(path);
		return -1;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	hex[64] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, hex, 65) != 65 || fsync(fd) < 0) {
		wk_log_warn("create %s", path);
		if (fd >= 0)
			close(fd);
		free(path);
		return -1;
	}
	close(fd);
	wk_log_info("generated a manager token in %s; admin routes need it (header token) "
	    "from non-loopback clients", path);
	free(path);
	return 0;
}

/* Shard counts left "auto" follow the data: a data directory written with
 * other counts (another host, other cores) keeps them.  The children load
 * the same file, so the adopted counts reach them as WK_PROCESSES_*
 * overrides.  A count set explicitly must match, as before. */
int
master_adopt_layout(struct master *m, char *err, size_t errlen)
{
	int nch, nmb;
	enum wk_shard_fn fn;
	char v[16];

	if (wk_shard_layout_read(m->cfg.dataDir, &nch, &nmb, NULL) == 0 &&
	    (nch != m->cfg.processes_channel || nmb != m->cfg.processes_mailbox)) {
		int auto_ch = m->cfg.count_auto[WK_CKI_processes_channel];
		int auto_mb = m->cfg.count_auto[WK_CKI_processes_mailbox];
		if ((nch == m->cfg.processes_channel || auto_ch) &&
		    (nmb == m->cfg.processes_mailbox || auto_mb)) {
			wk_log_info("%s/LAYOUT: the data was written with %d channel and %d mailbox "
			    "shards; keeping those counts (auto would give %d and %d on %d cores)",
			    m->cfg.dataDir, nch, nmb, m->cfg.processes_channel,
			    m->cfg.processes_mailbox, m->cfg.ncores);
			m->cfg.processes_channel = nch;
			m->cfg.processes_mailbox = nmb;
		}
	}
	snprintf(v, sizeof v, "%d", m->cfg.processes_channel);
	setenv("WK_PROCESSES_CHANNEL", v, 1);
	snprintf(v, sizeof v, "%d", m->cfg.processes_mailbox);
	setenv("WK_PROCESSES_MAILBOX", v, 1);
	if (wk_shard_layout_check(m->cfg.dataDir, m->cfg.processes_channel,
	    m->cfg.processes_mailbox, &fn, err, errlen) < 0)
		return -1;
	/* The children read the function from LAYOUT themselves (wk_proc). */
	wk_shard_use(fn);
	if (fn != WK_SHARD_FNV1A64_FMIX64)
		wk_log_info("%s/LAYOUT: the data was placed with %s; keeping it",
		    m->cfg.dataDir, wk_shard_fn_name(fn));
	return 0;
}

/* A detached master with no logger.dir and no syslog socket would log into
 * /dev/null: its stderr, which the children inherit, becomes
 * <rootDir>/logs/wk.log.  Called after daemonize. */
int
master_log_file(struct master *m)
{
	char *dir, *path;
	int fd;

	if (m->foreground || *m->cfg.logger_dir || wk_log_syslog_exists())
		return 0;
	dir = wk_asprintf("%s/logs", m->cfg.rootDir);
	path = wk_asprintf("%s/wk.log", dir);
	fd = wk_mkdirs(dir) < 0 ? -1 : open(path, O_WRONLY | O_APPEND | O_CREAT, 0640);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		if (fd != STDERR_FILENO)
			close(fd);
	}
	free(dir);
	free(path);
	return fd < 0 ? -1 : 0;
}

/* Top-level "key: value" of a file that may not parse as YAML. */
static char *
scan_key(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[4096], *v = NULL;
	size_t kl = strlen(key);

	if (f == NULL)
		return NULL;
	while (v == NULL && fgets(line, sizeof line, f)) {
		char *s = line + kl, *e;
		if (strncmp(line, key, kl) != 0 || *s != ':')
			continue;
		s += 1 + strspn(s + 1, " \t");
		if (*s == '"' || *s == '\'') {
			e = strchr(s + 1, *s);
			s++;
		}
		else
			e = s + strcspn(s, " \t#\r\n");
		if (e && e > s)
			v = wk_strndup(s, e - s);
	}
	fclose(f);
	return v;
}

/* When wk.yaml does not parse, `wk-master -c status|stop|pid|presence` still
 * reaches the running tree: the embedded defaults, with the top-level
 * rootDir and runDir lines of the file (relative to its directory). */
int
master_fallback_config(struct wk_config *cfg, const char *path)
{
	char *root = scan_key(path, "rootDir"), *run = scan_key(path, "runDir");
	char *dir = wk_strdup(path);
	int rc;

	*strrchr(dir, '/') = '\0';
	if (root)
		setenv("WK_ROOTDIR", root[0] == '/' ? root : wk_asprintf("%s/%s", dir, root), 1);
	if (run)
		setenv("WK_RUNDIR", run[0] == '/' ? run : wk_asprintf("%s/%s", dir, run), 1);
	rc = wk_config_load(cfg, NULL, NULL);
	free(dir);
	return rc;
}

/* The listening addresses, one line: logged at start, printed by wkctl start. */
void
master_log_addresses(const struct wk_config *cfg, FILE *out)
{
	char line[1024];

	snprintf(line, sizeof line, "listening: tcp %s, ws %s, wss %s, http %s", cfg->addr,
	    cfg->wsAddr, *cfg->wssAddr ? cfg->wssAddr : "off", cfg->httpAddr);
	if (out)
		fprintf(out, "%s\n", line);
	else
		wk_log_info("%s", line);
}

/* systemd's readiness protocol (sd_notify(3)), the few lines of it wk needs:
 * one datagram to $NOTIFY_SOCKET ("@..." is an abstract socket).  Written
 * here rather than linking libsystemd for one sendto(2). */
void
master_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (path == NULL || (*path != '/' && *path != '@') || strlen(path) >= sizeof sa.sun_path)
		return;
	len = strlen(path);
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		wk_log_warn("notify systemd (%s)", path);
	close(fd);
}

/* The statistics segment, one row per child in the order of m->children
 * (stats.h): made after the children's list and before the first fork, so
 * every child finds its row. */
int
master_stats_create(struct master *m)
{
	uint8_t *roles = wk_calloc(m->nchildren, 1);
	uint16_t *inst = wk_calloc(m->nchildren, sizeof *inst);
	int rc;

	for (int i = 0; i < m->nchildren; i++) {
		roles[i] = (uint8_t)m->children[i].role;
		inst[i] = (uint16_t)m->children[i].instance;
	}
	stats_name(m->cfg.runDir, m->stats_name, sizeof m->stats_name);
	rc = stats_create(&m->stats, m->stats_name, (uint32_t)m->nchildren, roles, inst);
	free(roles);
	free(inst);
	return rc;
}
