/* check_cluster_map.c - common/wk_cluster.c, the cluster's address map
 * (wk-cluster(7)): a malformed-input table and good entries for
 * "host:port"; the inbox and replication-site arithmetic of a 3-host
 * config loaded through wk_config_load, node_of round trips, arguments out
 * of range, one host (everything off); the loader's cluster checks with
 * their exact messages. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "wktest.h"
#include "wk_cluster.h"
#include "wk_config.h"
#include "wk_msg.h"
#include "wk_rep.h"
#include "config_fixture.h"

static const char *const bad_entries[] = {
	"", ":5000", "h:", "h:0", "h:abc", "h:70000", "h:65000", "h:63744", "h:123456",
	"a b:5000", " h:5000", "h:5000 ", "h:5000x", "h:+5000", "h:-1", "h5000", "h",
	"h:50:00", "::1:5000", "[::1]:5000", "tcp://h:5000", "h/x:5000", "h@x:5000",
	"0123456789012345678901234567890123456789012345678901234567890123:5000",
	/* retired entries: "-" and a good host:port, nothing else */
	"-", "-:5000", "--h:5000", "- h:5000", "-h:", "-h:0", "-h", "h-:5000-", "-tcp://h:5000",
};

START_TEST(test_cluster_parse_malformed)
{
	char host[64] = "untouched";
	unsigned port = 7;

	ck_assert_msg(wk_cluster_parse_node(bad_entries[_i], host, sizeof host, &port) == -1,
	    "\"%s\" accepted", bad_entries[_i]);
	ck_assert_str_eq(host, "untouched");
	ck_assert_uint_eq(port, 7);
}
END_TEST

START_TEST(test_cluster_parse_good)
{
	static const struct { const char *entry, *host; unsigned port; } ok[] = {
		{ "127.0.0.11:20000", "127.0.0.11", 20000 },
		{ "10.1.2.3:1", "10.1.2.3", 1 },
		{ "node-3.example.com:63743", "node-3.example.com", 63743 },
		{ "wk_b:05000", "wk_b", 5000 },
		/* 63 characters: the longest a replication site holds */
		{ "012345678901234567890123456789012345678901234567890123456789012:9",
		  "012345678901234567890123456789012345678901234567890123456789012", 9 },
	};
	char host[64], small[8];
	unsigned port;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		ck_assert_msg(wk_cluster_parse_node(ok[i].entry, host, sizeof host, &port) == 0,
		    "\"%s\" refused", ok[i].entry);
		ck_assert_str_eq(host, ok[i].host);
		ck_assert_uint_eq(port, ok[i].port);
	}
	/* the caller's buffer bounds the host too */
	ck_assert_int_eq(wk_cluster_parse_node("abcdefgh:1", small, sizeof small, &port), -1);
	ck_assert_int_eq(wk_cluster_parse_node("abcdefg:1", small, sizeof small, &port), 0);
	/* a retired host: the same address, and 1 */
	ck_assert_int_eq(wk_cluster_parse_node("-10.1.2.3:7000", host, sizeof host, &port), 1);
	ck_assert_str_eq(host, "10.1.2.3");
	ck_assert_uint_eq(port, 7000);
	ck_assert_int_eq(wk_cluster_parse_node("-a-b:7", host, sizeof host, &port), 1);
	ck_assert_str_eq(host, "a-b");
}
END_TEST

static const char three_hosts[] =
    "cluster:\n"
    "  node: 2\n"
    "  nodes: [\"127.0.0.11:20000\", \"127.0.0.12:20000\", \"node3.example:30000\"]\n"
    "processes:\n"
    "  channel: 4\n"
    "  mailbox: 2\n";

static void
load_ok(const char *text, struct wk_config *c)
{
	char *out;

	ck_assert_int_eq(ct_load(text, c, &out), 0);
	ck_assert_str_eq(out, "");
	free(out);
}

static void
expect_endpoint(const struct wk_config *c, int node, int role, int instance, const char *want)
{
	char *ep = wk_cluster_endpoint(c, node, role, instance);

	if (want == NULL) {
		ck_assert_msg(ep == NULL, "node %d role %d/%d: %s", node, role, instance, ep);
		return;
	}
	ck_assert_msg(ep != NULL, "node %d role %d/%d: NULL", node, role, instance);
	ck_assert_str_eq(ep, want);
	free(ep);
}

static void
expect_site(const struct wk_rep_site *s, const char *host, unsigned port)
{
	ck_assert_str_eq(s->host, host);
	ck_assert_uint_eq(s->port, port);
}

START_TEST(test_cluster_endpoints)
{
	struct wk_config c;
	char host[64];
	unsigned port;

	load_ok(three_hosts, &c);
	ck_assert_int_eq(wk_cluster_on(&c), 1);
	ck_assert_int_eq(wk_cluster_count(&c), 3);
	ck_assert_int_eq(wk_cluster_node_addr(&c, 3, host, sizeof host, &port), 0);
	ck_assert_str_eq(host, "node3.example");
	ck_assert_uint_eq(port, 30000);
	ck_assert_int_eq(wk_cluster_node_addr(&c, 0, host, sizeof host, &port), -1);
	ck_assert_int_eq(wk_cluster_node_addr(&c, 4, host, sizeof host, &port), -1);

	expect_endpoint(&c, 1, WK_ROLE_BROKER, 0, "tcp://127.0.0.11:20000");
	expect_endpoint(&c, 1, WK_ROLE_BROKER, 255, "tcp://127.0.0.11:20255");
	expect_endpoint(&c, 2, WK_ROLE_API, 0, "tcp://127.0.0.12:20256");
	expect_endpoint(&c, 3, WK_ROLE_CHANNEL, 3, "tcp://node3.example:30515");
	expect_endpoint(&c, 1, WK_ROLE_MAILBOX, 1, "tcp://127.0.0.11:20769");
	expect_endpoint(&c, 2, WK_ROLE_HOOK, 0, "tcp://127.0.0.12:21024");
	/* out of range: node, role, instance */
	expect_endpoint(&c, 0, WK_ROLE_BROKER, 0, NULL);
	expect_endpoint(&c, 4, WK_ROLE_BROKER, 0, NULL);
	expect_endpoint(&c, -1, WK_ROLE_BROKER, 0, NULL);
	expect_endpoint(&c, 1, WK_ROLE_MASTER, 0, NULL);
	expect_endpoint(&c, 1, WK_ROLE_CTL, 0, NULL);
	expect_endpoint(&c, 1, WK_ROLE_COUNT + 3, 0, NULL);
	expect_endpoint(&c, 1, WK_ROLE_CHANNEL, -1, NULL);
	expect_endpoint(&c, 1, WK_ROLE_CHANNEL, 256, NULL);
	wk_config_free(&c);
}
END_TEST

START_TEST(test_cluster_rep_sites)
{
	struct wk_config c;
	struct wk_rep_config rc;

	load_ok(three_hosts, &c);
	ck_assert_int_eq(wk_cluster_replicated(WK_ROLE_CHANNEL), 1);
	ck_assert_int_eq(wk_cluster_replicated(WK_ROLE_MAILBOX), 1);
	for (int r = WK_ROLE_MASTER; r < WK_ROLE_COUNT; r++)
		if (r != WK_ROLE_CHANNEL && r != WK_ROLE_MAILBOX)
			ck_assert_int_eq(wk_cluster_replicated(r), 0);

	ck_assert_int_eq(wk_cluster_rep_config(&c, WK_ROLE_CHANNEL, 3, &rc), 0);
	expect_site(&rc.self, "127.0.0.12", 21283);
	ck_assert_int_eq(rc.npeers, 2);
	expect_site(&rc.peer[0], "127.0.0.11", 21283);
	expect_site(&rc.peer[1], "node3.example", 31283);
	ck_assert_int_eq(wk_cluster_rep_config(&c, WK_ROLE_MAILBOX, 255, &rc), 0);
	expect_site(&rc.self, "127.0.0.12", 21791);   /* the block's last port */
	expect_site(&rc.peer[1], "node3.example", 31791);

	ck_assert_int_eq(wk_cluster_rep_config(&c, WK_ROLE_BROKER, 0, &rc), -1);
	ck_assert_int_eq(wk_cluster_rep_config(&c, WK_ROLE_HOOK, 0, &rc), -1);
	ck_assert_int_eq(wk_cluster_rep_config(&c, WK_ROLE_CHANNEL, 256, &rc), -1);
	ck_assert_int_eq(wk_cluster_rep_config(&c, WK_ROLE_CHANNEL, -1, &rc), -1);
	wk_config_free(&c);
}
END_TEST

/* Every site of every node maps back to its node; nothing else does. */
START_TEST(test_cluster_node_of)
{
	static const int roles[] = { WK_ROLE_CHANNEL, WK_ROLE_MAILBOX };
	static const int instances[] = { 0, 1, 3, 255 };
	struct wk_config c;
	struct wk_rep_config rc;

	load_ok(three_hosts, &c);
	for (size_t r = 0; r < 2; r++)
		for (size_t i = 0; i < sizeof instances / sizeof instances[0]; i++) {
			int role = roles[r], in = instances[i];
			ck_assert_int_eq(wk_cluster_rep_config(&c, role, in, &rc), 0);
			ck_assert_int_eq(wk_cluster_node_of(&c, role, in, rc.self.host, rc.self.port), 2);
			ck_assert_int_eq(wk_cluster_node_of(&c, role, in, rc.peer[0].host,
			    rc.peer[0].port), 1);
			ck_assert_int_eq(wk_cluster_node_of(&c, role, in, rc.peer[1].host,
			    rc.peer[1].port), 3);
			/* the other replicated role's site at the same place is not it */
			ck_assert_int_eq(wk_cluster_node_of(&c, roles[1 - r], in, rc.self.host,
			    rc.self.port), 0);
		}
	ck_assert_int_eq(wk_cluster_node_of(&c, WK_ROLE_CHANNEL, 3, "NODE3.example", 31283), 3);
	ck_assert_int_eq(wk_cluster_node_of(&c, WK_ROLE_CHANNEL, 3, "127.0.0.13", 21283), 0);
	ck_assert_int_eq(wk_cluster_node_of(&c, WK_ROLE_CHANNEL, 3, "127.0.0.12", 21284), 0);
	ck_assert_int_eq(wk_cluster_node_of(&c, WK_ROLE_CHANNEL, 3, "127.0.0.12", 20515), 0);
	ck_assert_int_eq(wk_cluster_node_of(&c, WK_ROLE_BROKER, 0, "127.0.0.12", 20000), 0);
	wk_config_free(&c);
}
END_TEST

/* A host taken out ("-host:port"): no endpoint, no peer, no node_of, but
 * its replication site is known (to remove it); a joining host says so. */
START_TEST(test_cluster_retired)
{
	static const char text[] =
	    "cluster:\n"
	    "  node: 3\n"
	    "  join: true\n"
	    "  nodes: [\"-127.0.0.11:20000\", \"127.0.0.12:20000\", \"127.0.0.13:20000\"]\n"
	    "processes:\n  channel: 2\n  mailbox: 2\n";
	struct wk_config c;
	struct wk_rep_config rc;
	struct wk_rep_site s;
	char host[64];
	unsigned port;

	load_ok(text, &c);
	ck_assert_int_eq(wk_cluster_count(&c), 3);
	ck_assert_int_eq(wk_cluster_member(&c, 1), 0);
	ck_assert_int_eq(wk_cluster_member(&c, 2), 1);
	ck_assert_int_eq(wk_cluster_member(&c, 3), 1);
	ck_assert_int_eq(wk_cluster_member(&c, 0), 0);
	ck_assert_int_eq(wk_cluster_member(&c, 4), 0);
	ck_assert_int_eq(wk_cluster_node_addr(&c, 1, host, sizeof host, &port), -1);
	expect_endpoint(&c, 1, WK_ROLE_BROKER, 0, NULL);
	expect_endpoint(&c, 2, WK_ROLE_BROKER, 0, "tcp://127.0.0.12:20000");

	ck_assert_int_eq(wk_cluster_rep_config(&c, WK_ROLE_CHANNEL, 1, &rc), 0);
	ck_assert_int_eq(rc.join, 1);
	ck_assert_int_eq(rc.join_ms, 10000);   /* 2/3 of supervisor.readyTimeout */
	expect_site(&rc.self, "127.0.0.13", 21281);
	ck_assert_int_eq(rc.npeers, 1);
	expect_site(&rc.peer[0], "127.0.0.12", 21281);

	ck_assert_int_eq(wk_cluster_retired_site(&c, 1, WK_ROLE_MAILBOX, 1, &s), 0);
	expect_site(&s, "127.0.0.11", 21537);
	ck_assert_int_eq(wk_cluster_retired_site(&c, 2, WK_ROLE_MAILBOX, 1, &s), -1);
	ck_assert_int_eq(wk_cluster_retired_site(&c, 1, WK_ROLE_BROKER, 0, &s), -1);
	ck_assert_int_eq(wk_cluster_node_of(&c, WK_ROLE_MAILBOX, 1, "127.0.0.11", 21537), 0);
	ck_assert_int_eq(wk_cluster_node_of(&c, WK_ROLE_MAILBOX, 1, "127.0.0.12", 21537), 2);
	wk_config_free(&c);

	/* this host itself taken out: refused at load */
	char *out;
	ck_assert_int_ne(ct_load("cluster:\n  node: 1\n  nodes: [\"-127.0.0.11:20000\", "
	    "\"127.0.0.12:20000\"]\nprocesses:\n  channel: 2\n  mailbox: 2\n", &c, &out), 0);
	ck_assert_msg(strstr(out, "is marked taken out") != NULL, "%s", out);
	free(out);
}
END_TEST

/* One host: the default, and a list with node 0 (ignored, not checked). */
START_TEST(test_cluster_off)
{
	static const char *const texts[] = {
		NULL,
		"cluster:\n  node: 0\n  nodes: [\"a:1\", \"not an entry\"]\n",
	};
	struct wk_config c;
	struct wk_rep_config rc;
	char host[64];
	unsigned port;

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		load_ok(texts[i], &c);
		ck_assert_int_eq(wk_cluster_on(&c), 0);
		ck_assert_int_eq(wk_cluster_count(&c), 0);
		ck_assert_int_eq(wk_cluster_node_addr(&c, 1, host, sizeof host, &port), -1);
		expect_endpoint(&c, 1, WK_ROLE_BROKER, 0, NULL);
		ck_assert_int_eq(wk_cluster_rep_config(&c, WK_ROLE_CHANNEL, 0, &rc), -1);
		ck_assert_int_eq(wk_cluster_node_of(&c, WK_ROLE_CHANNEL, 0, "a", 1281), 0);
		wk_config_free(&c);
	}
}
END_TEST

/* Nine hosts: eight peers, the most a replication site takes. */
START_TEST(test_cluster_nine_hosts)
{
	struct wk_config c;
	struct wk_rep_config rc;

	load_ok("cluster:\n  node: 9\n  nodes: [h1:2000, h2:2000, h3:2000, h4:2000, h5:2000, "
	    "h6:2000, h7:2000, h8:2000, h9:2000]\nprocesses: {channel: 1, mailbox: 1}\n", &c);
	ck_assert_int_eq(wk_cluster_rep_config(&c, WK_ROLE_MAILBOX, 0, &rc), 0);
	expect_site(&rc.self, "h9", 3536);
	ck_assert_int_eq(rc.npeers, WK_REP_MAX_PEERS);
	expect_site(&rc.peer[7], "h8", 3536);
	ck_assert_int_eq(wk_cluster_node_of(&c, WK_ROLE_MAILBOX, 0, "h8", 3536), 8);
	wk_config_free(&c);
}
END_TEST

/* The loader's cluster checks: every message names its key. */
static const struct {
	const char *name, *yaml, *want;
} bad_configs[] = {
	{ "node past the list",
	  "cluster:\n  node: 3\n  nodes: [a:1000, b:1000]\nprocesses: {channel: 2, mailbox: 2}\n",
	  "wk.yaml:2:9: cluster.node: 3 is past the end of cluster.nodes (2 hosts)\n" },
	{ "node without a list",
	  "cluster:\n  node: 1\nprocesses: {channel: 2, mailbox: 2}\n",
	  "wk.yaml:2:9: cluster.node: 1 is past the end of cluster.nodes (0 hosts)\n" },
	{ "ten hosts",
	  "cluster:\n  node: 1\n  nodes: [h0:1, h1:1, h2:1, h3:1, h4:1, h5:1, h6:1, h7:1, h8:1, h9:1]\n"
	  "processes: {channel: 2, mailbox: 2}\n",
	  "wk.yaml:3:10: cluster.nodes: 10 hosts; at most 9\n" },
	{ "node above 9",
	  "cluster:\n  node: 10\n  nodes: [a:1000]\nprocesses: {channel: 2, mailbox: 2}\n",
	  "wk.yaml:2:9: cluster.node: must be between 0 and 9, got \"10\"\n" },
	{ "bad entry",
	  "cluster:\n  node: 1\n  nodes: [a:1000, \"b:65000\"]\nprocesses: {channel: 2, mailbox: 2}\n",
	  "wk.yaml:3:10: cluster.nodes: \"b:65000\" is not host:port (host: an IPv4 address or a "
	  "name, at most 63 characters; port: 1 to 63743)\n" },
	{ "overlapping ports",
	  "cluster:\n  node: 1\n  nodes: [a:20000, A:21791]\nprocesses: {channel: 2, mailbox: 2}\n",
	  "wk.yaml:3:10: cluster.nodes: \"a:20000\" and \"A:21791\" share ports (a host uses 1792 "
	  "from its base)\n" },
	{ "auto shards",
	  "cluster:\n  node: 1\n  nodes: [a:1000]\nprocesses: {channel: auto}\n",
	  "wk.yaml:4:22: processes.channel: must be a number, not auto, in a cluster "
	  "(cluster.node > 0): every host needs the same shard count\n"
	  "wk.yaml: processes.mailbox: must be a number, not auto, in a cluster "
	  "(cluster.node > 0): every host needs the same shard count\n" },
};

START_TEST(test_cluster_bad_configs)
{
	struct wk_config c;
	char *out;

	ck_assert_int_eq(ct_load(bad_configs[_i].yaml, &c, &out), -1);
	ck_assert_msg(strcmp(out, bad_configs[_i].want) == 0, "%s: want:\n%sgot:\n%s",
	    bad_configs[_i].name, bad_configs[_i].want, out);
	free(out);
}
END_TEST

/* From the environment, as WK_CLUSTER_NODE and a space-separated WK_CLUSTER_NODES. */
START_TEST(test_cluster_env)
{
	struct wk_config c;
	char *out;

	setenv("WK_CLUSTER_NODE", "3", 1);
	setenv("WK_CLUSTER_NODES", "a:1000 b:1000 c:1000", 1);
	setenv("WK_PROCESSES_CHANNEL", "2", 1);
	setenv("WK_PROCESSES_MAILBOX", "2", 1);
	load_ok(NULL, &c);
	ck_assert_int_eq(wk_cluster_count(&c), 3);
	expect_endpoint(&c, 3, WK_ROLE_MAILBOX, 1, "tcp://c:1769");
	wk_config_free(&c);
	setenv("WK_CLUSTER_NODE", "4", 1);
	ck_assert_int_eq(ct_load(NULL, &c, &out), -1);
	ck_assert_str_eq(out, "WK_CLUSTER_NODE: cluster.node: 4 is past the end of cluster.nodes "
	    "(3 hosts)\n");
	free(out);
}
END_TEST

/* cluster.routes entries: "tcpAddr wsAddr [wssAddr]". */
static const char *const bad_routes[] = {
	"", "h:5100", "ws://h:5200", "h:5100 h:5200", "tcp://h:5100 ws://h:5200",
	"h5100 ws://h:5200", "h:5100 ws://h:5200 ws://h:5210", "h:5100 wss://h:5210",
	"h:5100 ws://h:5200 wss://h:5210 extra",
};

START_TEST(test_cluster_route_malformed)
{
	struct wk_cluster_route r = { "untouched", "", "" };

	ck_assert_msg(wk_cluster_parse_route(bad_routes[_i], &r) == -1, "\"%s\" accepted",
	    bad_routes[_i]);
	ck_assert_str_eq(r.tcp, "untouched");
}
END_TEST

START_TEST(test_cluster_routes)
{
	struct wk_config c;
	struct wk_cluster_route r;
	char *out;

	load_ok("cluster:\n  node: 2\n  nodes: [a:1000, b:3000]\n"
	    "  routes: [\"10.0.0.1:5100 ws://10.0.0.1:5200\", "
	    "\"10.0.0.2:5100 ws://10.0.0.2:5200 wss://im.example.com:5210\"]\n"
	    "processes: {channel: 2, mailbox: 2}\n", &c);
	ck_assert_int_eq(wk_cluster_route(&c, 1, &r), 0);
	ck_assert_str_eq(r.tcp, "10.0.0.1:5100");
	ck_assert_str_eq(r.ws, "ws://10.0.0.1:5200");
	ck_assert_str_eq(r.wss, "");
	ck_assert_int_eq(wk_cluster_route(&c, 2, &r), 0);
	ck_assert_str_eq(r.wss, "wss://im.example.com:5210");
	ck_assert_int_eq(wk_cluster_route(&c, 0, &r), -1);
	ck_assert_int_eq(wk_cluster_route(&c, 3, &r), -1);
	wk_config_free(&c);
	/* one entry per host or none */
	ck_assert_int_eq(ct_load("cluster:\n  node: 1\n  nodes: [a:1000, b:3000]\n"
	    "  routes: [\"h:1 ws://h:2\"]\nprocesses: {channel: 2, mailbox: 2}\n", &c, &out), -1);
	ck_assert_msg(strstr(out, "cluster.routes: 1 entries for 2 hosts") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(ct_load("cluster:\n  node: 1\n  nodes: [a:1000]\n"
	    "  routes: [\"h:1\"]\nprocesses: {channel: 2, mailbox: 2}\n", &c, &out), -1);
	ck_assert_msg(strstr(out, "cluster.routes: \"h:1\" is not") != NULL, "%s", out);
	free(out);
}
END_TEST

static Suite *
cluster_map_suite(void)
{
	Suite *s = suite_create("cluster_map");
	TCase *tc = tcase_create("map");

	tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
	tcase_add_loop_test(tc, test_cluster_parse_malformed, 0,
	    sizeof bad_entries / sizeof bad_entries[0]);
	tcase_add_test(tc, test_cluster_parse_good);
	tcase_add_test(tc, test_cluster_endpoints);
	tcase_add_test(tc, test_cluster_rep_sites);
	tcase_add_test(tc, test_cluster_node_of);
	tcase_add_test(tc, test_cluster_retired);
	tcase_add_test(tc, test_cluster_off);
	tcase_add_test(tc, test_cluster_nine_hosts);
	tcase_add_loop_test(tc, test_cluster_bad_configs, 0,
	    sizeof bad_configs / sizeof bad_configs[0]);
	tcase_add_test(tc, test_cluster_env);
	tcase_add_loop_test(tc, test_cluster_route_malformed, 0,
	    sizeof bad_routes / sizeof bad_routes[0]);
	tcase_add_test(tc, test_cluster_routes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return wkt_run_suite(cluster_map_suite());
}
