/*
 * test_room.c - room bookkeeping (server/room.c) without a network: joins
 * are idempotent, leaving one room keeps the others, room_leave_all (what
 * a "session closed" event on the bus causes) empties every room of a
 * session, room_drop empties a room, and the per-session cap holds. Sessions are bare structs:
 * rooms only look at their id. LeakSanitizer checks that empty rooms are freed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"
#include "room.h"
#include "sess.h"
#include "srv.h"

static struct srv S;

static struct sess mk(uint64_t id)
{
	struct sess s;

	memset(&s, 0, sizeof(s));
	s.id = id;
	return s;
}

static int has(long long pid, uint64_t sid)
{
	uint64_t m[64];
	size_t n = room_members(&S, pid, m, 64);

	for (size_t i = 0; i < n; i++)
		if (m[i] == sid)
			return 1;
	return 0;
}

static void join_is_idempotent_and_leave_is_per_room(void **state)
{
	struct sess a = mk(1), b = mk(2);

	assert_int_equal(room_join(&S, 10, &a, 0), 0);
	assert_int_equal(room_join(&S, 10, &a, 0), 0);
	assert_int_equal(room_join(&S, 10, &b, 0), 0);
	assert_int_equal(room_join(&S, 11, &a, 0), 0);
	assert_int_equal(room_members(&S, 10, NULL, 0), 2);
	assert_int_equal(room_members(&S, 11, NULL, 0), 1);
	room_leave(&S, 10, a.id);
	assert_false(has(10, a.id));
	assert_true(has(10, b.id));
	assert_true(has(11, a.id));
	room_leave(&S, 10, 999); /* not a member: no-op */
	room_leave_all(&S, a.id);
	room_leave_all(&S, b.id);
	assert_int_equal(room_members(&S, 10, NULL, 0), 0);
	assert_int_equal(room_members(&S, 11, NULL, 0), 0);
}

static void leave_all_empties_every_room_of_the_session(void **state)
{
	struct sess a = mk(7), b = mk(8);

	for (long long p = 100; p < 110; p++) {
		assert_int_equal(room_join(&S, p, &a, 0), 0);
		assert_int_equal(room_join(&S, p, &b, 0), 0);
	}
	room_leave_all(&S, a.id);
	for (long long p = 100; p < 110; p++) {
		assert_false(has(p, a.id));
		assert_true(has(p, b.id));
	}
	room_leave_all(&S, b.id);
	for (long long p = 100; p < 110; p++)
		assert_int_equal(room_members(&S, p, NULL, 0), 0);
	room_leave_all(&S, b.id); /* twice: nothing left, no crash */
}

static void drop_empties_a_room_and_forgets_it_per_session(void **state)
{
	struct sess s[5];

	for (int i = 0; i < 5; i++) {
		s[i] = mk(50 + i);
		assert_int_equal(room_join(&S, 5, &s[i], 0), 0);
		assert_int_equal(room_join(&S, 6, &s[i], 0), 0);
	}
	room_drop(&S, 5);
	assert_int_equal(room_members(&S, 5, NULL, 0), 0);
	assert_int_equal(room_members(&S, 6, NULL, 0), 5);
	for (int i = 0; i < 5; i++)
		room_leave_all(&S, s[i].id);
	assert_int_equal(room_members(&S, 6, NULL, 0), 0);
}

static void a_session_watches_at_most_the_cap(void **state)
{
	struct sess a = mk(77);

	for (long long p = 1; p <= ROOM_MAX_PER_SESS; p++)
		assert_int_equal(room_join(&S, p, &a, 0), 0);
	assert_int_equal(room_join(&S, ROOM_MAX_PER_SESS + 1, &a, 0), -2);
	assert_int_equal(room_join(&S, 1, &a, 0), 0); /* already a member */
	room_leave(&S, 1, a.id);
	assert_int_equal(room_join(&S, ROOM_MAX_PER_SESS + 1, &a, 0), 0);
	room_leave_all(&S, a.id);
}

static void members_reports_the_total_beyond_max(void **state)
{
	struct sess s[10];
	uint64_t out[3];

	for (int i = 0; i < 10; i++) {
		s[i] = mk(200 + i);
		room_join(&S, 42, &s[i], 0);
	}
	assert_int_equal(room_members(&S, 42, out, 3), 10);
	for (int i = 0; i < 10; i++)
		room_leave_all(&S, s[i].id);
}

static void a_closed_session_leaves_its_rooms_through_the_bus(void **state)
{
	struct sess a = mk(300), b = mk(301);

	assert_int_equal(room_join(&S, 7, &a, 0), 0);
	assert_int_equal(room_join(&S, 8, &a, 0), 0);
	assert_int_equal(room_join(&S, 7, &b, 0), 0);
	bus_publish(&S, "session", "closed", json_pack("{s:I}", "session", (json_int_t)a.id));
	assert_false(has(7, a.id));
	assert_false(has(8, a.id));
	assert_true(has(7, b.id));
	room_leave_all(&S, b.id);
}

static void only_members_with_the_flag_see_runs(void **state)
{
	struct sess a = mk(400), b = mk(401);
	uint64_t out[4];

	assert_int_equal(room_join(&S, 9, &a, ROOM_SEES_RUNS), 0);
	assert_int_equal(room_join(&S, 9, &b, 0), 0);
	assert_int_equal(room_members_with(&S, 9, ROOM_SEES_RUNS, out, 4), 1);
	assert_true(out[0] == a.id);
	room_set_flags(&S, 9, a.id, 0); /* its access shrank */
	assert_int_equal(room_members_with(&S, 9, ROOM_SEES_RUNS, out, 4), 0);
	assert_int_equal(room_join(&S, 9, &b, ROOM_SEES_RUNS), 0); /* again: new flags */
	assert_int_equal(room_members_with(&S, 9, ROOM_SEES_RUNS, out, 4), 1);
	assert_true(out[0] == b.id);
	assert_int_equal(room_members(&S, 9, out, 4), 2);
	room_leave_all(&S, a.id);
	room_leave_all(&S, b.id);
}

static int setup(void **state)
{
	return room_init(&S, NULL);
}

static int teardown(void **state)
{
	room_release(&S);
	bus_release(&S);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(join_is_idempotent_and_leave_is_per_room),
	    cmocka_unit_test(leave_all_empties_every_room_of_the_session),
	    cmocka_unit_test(drop_empties_a_room_and_forgets_it_per_session),
	    cmocka_unit_test(a_session_watches_at_most_the_cap),
	    cmocka_unit_test(members_reports_the_total_beyond_max),
	    cmocka_unit_test(a_closed_session_leaves_its_rooms_through_the_bus),
	    cmocka_unit_test(only_members_with_the_flag_see_runs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
