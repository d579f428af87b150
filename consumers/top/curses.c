/* SPDX-License-Identifier: MIT */
/* curses.c - hbtop's interactive screen (ncursesw). */
#include "top.h"

#include <curses.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t top_quit;
static long top_scroll; /* first producer row shown */

static void top_on_signal(int sig)
{
	(void)sig;
	top_quit = 1;
}

enum { CP_HEALTHY = 1, CP_LATE, CP_DEAD, CP_EXITED, CP_HEAD, CP_ALERT };

static void top_colors(void)
{
	if (!has_colors() || getenv("NO_COLOR"))
		return;
	start_color();
	use_default_colors();
	init_pair(CP_HEALTHY, COLOR_GREEN, -1);
	init_pair(CP_LATE, COLOR_YELLOW, -1);
	init_pair(CP_DEAD, COLOR_RED, -1);
	init_pair(CP_EXITED, COLOR_BLUE, -1);
	init_pair(CP_HEAD, COLOR_BLACK, COLOR_CYAN);
	init_pair(CP_ALERT, COLOR_WHITE, COLOR_RED);
}

static int top_state_attr(enum top_state s)
{
	switch (s) {
	case TS_HEALTHY: return COLOR_PAIR(CP_HEALTHY);
	case TS_LATE:
	case TS_BACKLOGGED: return COLOR_PAIR(CP_LATE) | A_BOLD;
	case TS_DEAD:
	case TS_CRASHED:
	case TS_QUARANTINED: return COLOR_PAIR(CP_DEAD) | A_BOLD;
	case TS_EXITED: return COLOR_PAIR(CP_EXITED) | A_DIM;
	default: return A_NORMAL;
	}
}

static const char *const top_help[] = {
	"hbtop keys",
	"",
	"  q            quit",
	"  h, ?         this help (any key returns)",
	"  space        pause / resume (replay: pauses the replay clock)",
	"  .            replay, paused: step one delay of archive time",
	"  d            set the refresh delay (seconds)",
	"  /            filter producers by name (glob or substring; empty = all)",
	"  t            filter producers by event type (glob; empty = all)",
	"  < >          sort by the previous / next column",
	"  r            reverse the sort order",
	"  n p s a u e x f c m   sort by name, pid, state, heartbeat age, uptime,",
	"               events/s, drops, fill, cpu, rss",
	"  PgDn PgUp    scroll the rows a page down / up",
	"  Down Up j k  scroll one row down / up",
	"  Home End g G first / last rows",
	"  H            hide / show finished producers (exited, or dead and gone)",
	"",
	"States: healthy (green), late (yellow: > 1.5 heartbeat intervals),",
	"dead (red: > 3 intervals or the process is gone), exited (blue).",
	NULL,
};

static void top_draw_help(void)
{
	int i;

	erase();
	for (i = 0; top_help[i]; i++)
		mvaddstr(i + 1, 2, top_help[i]);
	refresh();
}

/* Adds what fits of s on the current line, never wrapping to the next
 * (the last column left free: a character there moves the cursor on). */
static void top_addn(const char *s, int cols)
{
	int x = getcurx(stdscr);

	if (x < cols - 1)
		addnstr(s, cols - 1 - x);
}

static void top_draw(const struct top_view *v, const struct top_snap *s, int paused,
		     unsigned delay_ms)
{
	char l1[768], l2[512], fld[10][32], met[1024], spark[64], line[2048];
	int y, rows, cols = COLS;
	uint32_t i;

	erase();
	top_header_text(s, l1, sizeof(l1), l2, sizeof(l2));
	mvaddnstr(0, 0, l1, cols);
	mvaddnstr(1, 0, l2, cols);
	snprintf(line, sizeof(line), "sort %s%s  delay %.1fs%s%s%s%s%s%s  h: help", top_col_name(v->sort),
		 v->reverse ? " (reversed)" : "", delay_ms / 1000.0, paused ? "  PAUSED" : "",
		 v->filter[0] ? "  filter " : "", v->filter, v->tfilter[0] ? "  type " : "",
		 v->tfilter, v->hide_done ? "  finished hidden (H)" : "");
	mvaddnstr(2, 0, line, cols);
	attron(COLOR_PAIR(CP_HEAD) | A_BOLD);
	move(3, 0);
	if (s->by_host) {
		snprintf(line, sizeof(line), TOP_HOST_FMT, "HOST");
		top_addn(line, cols);
	}
	snprintf(line, sizeof(line), "%-16s %7s %-8s %7s %8s %9s %9s %8s %5s %5s %6s %-16s %s",
		 "NAME", "PID", "STATE", "HB-AGE", "UPTIME", "EV/S", "EVENTS", "DROPS", "FILL%",
		 "CPU%", "RSS", "RATE", "METRICS");
	top_addn(line, cols);
	for (y = getcurx(stdscr); y < cols; y++)
		addch(' ');
	attroff(COLOR_PAIR(CP_HEAD) | A_BOLD);
	rows = LINES - 4;
	if (rows > 0 && s->nrows > (uint32_t)rows)
		rows--; /* the last line says which rows are shown */
	if (rows < 1)
		rows = 1;
	if (top_scroll > (long)s->nrows - rows)
		top_scroll = (long)s->nrows - rows;
	if (top_scroll < 0)
		top_scroll = 0;
	for (i = (uint32_t)top_scroll, y = 4; i < s->nrows && y < 4 + rows; i++, y++) {
		const struct top_row *r = &s->rows[i];

		top_row_fields(r, s->now_ns, fld);
		top_metrics_text(v, r, met, sizeof(met));
		top_spark_text(r, s->now_ns, v->utf8, spark, sizeof(spark));
		move(y, 0);
		if (s->by_host) {
			snprintf(line, sizeof(line), TOP_HOST_FMT, r->host);
			top_addn(line, cols);
		}
		if (r->nalerts)
			attron(COLOR_PAIR(CP_ALERT));
		snprintf(line, sizeof(line), "%-16.16s %7s ", r->name, fld[0]);
		top_addn(line, cols);
		if (r->nalerts)
			attroff(COLOR_PAIR(CP_ALERT));
		attron(top_state_attr(r->state));
		snprintf(line, sizeof(line), "%-8s", top_state_name(r->state));
		top_addn(line, cols);
		attroff(top_state_attr(r->state));
		snprintf(line, sizeof(line), " %7s %8s %9s %9s %8s %5s %5s %6s %s %s", fld[1], fld[2],
			 fld[3], fld[4], fld[5], fld[6], fld[7], fld[8], spark, met);
		top_addn(line, cols);
	}
	if (s->nrows > (uint32_t)rows) {
		snprintf(line, sizeof(line),
			 "-- rows %ld-%ld of %u, %u hidden (PgDn/PgUp, Down/Up, j/k, Home/End) --",
			 top_scroll + 1, top_scroll + rows, s->nrows, s->nrows - (uint32_t)rows);
		attron(A_REVERSE);
		mvaddnstr(LINES - 1, 0, line, cols - 1);
		attroff(A_REVERSE);
	}
	refresh();
}

/* Reads a line at the bottom of the screen into buf; empty on escape. */
static void top_prompt(const char *what, char *buf, size_t len)
{
	char tmp[128] = "";

	move(LINES - 1, 0);
	clrtoeol();
	addstr(what);
	echo();
	curs_set(1);
	timeout(-1);
	if (getnstr(tmp, (int)(sizeof(tmp) < len ? sizeof(tmp) : len) - 1) == ERR)
		tmp[0] = 0;
	noecho();
	curs_set(0);
	snprintf(buf, len, "%s", tmp);
}

static int top_sort_key(struct top_view *v, int ch)
{
	static const char keys[] = "npsauexfcm";
	const char *k = ch > 0 && ch < 128 ? strchr(keys, ch) : NULL;

	if (!k)
		return 0;
	v->sort = (enum top_col)(k - keys);
	return 1;
}

/* Handles one key; returns 1 to quit. */
static int top_key(struct top_model *m, struct top_view *v, int ch, int *paused,
		   unsigned *delay_ms, int *help)
{
	char buf[64];

	if (*help && ch != ERR) {
		*help = 0;
		return 0;
	}
	switch (ch) {
	case 'q': return 1;
	case 'h': case '?': *help = 1; top_draw_help(); break;
	case ' ':
		*paused = !*paused;
		top_model_pause(m, *paused);
		break;
	case '.': /* replay: one delay of archive time forward */
		if (*paused)
			top_model_step(m, (uint64_t)*delay_ms * 1000000u);
		break;
	case 'd':
		top_prompt("delay (seconds): ", buf, sizeof(buf));
		if (atof(buf) >= 0.1)
			*delay_ms = (unsigned)(atof(buf) * 1000);
		break;
	case '/': top_prompt("filter producer: ", v->filter, sizeof(v->filter)); break;
	case 't': top_prompt("filter event type: ", v->tfilter, sizeof(v->tfilter)); break;
	case '<': v->sort = v->sort ? v->sort - 1 : TC_NCOLS - 1; break;
	case '>': v->sort = (v->sort + 1) % TC_NCOLS; break;
	case 'r': v->reverse = !v->reverse; break;
	case 'H': v->hide_done = !v->hide_done; break;
	case KEY_NPAGE: top_scroll += LINES > 5 ? LINES - 5 : 1; break;
	case KEY_PPAGE: top_scroll -= LINES > 5 ? LINES - 5 : 1; break;
	case KEY_DOWN: case 'j': top_scroll++; break;
	case KEY_UP: case 'k': top_scroll--; break;
	case KEY_HOME: case 'g': top_scroll = 0; break;
	case KEY_END: case 'G': top_scroll = 1L << 30; break; /* clamped when drawn */
	default: top_sort_key(v, ch); break;
	}
	return 0;
}

int top_curses_run(struct top_model *m, struct top_view *v, unsigned delay_ms)
{
	struct top_snap s = {0};
	int paused = 0, help = 0, ch = ERR;
	uint64_t last = 0;

	signal(SIGINT, top_on_signal);
	signal(SIGTERM, top_on_signal);
	signal(SIGHUP, top_on_signal);
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	top_colors();
	while (!top_quit) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		if (!help && (ch != ERR || (!paused && now - last >= delay_ms) || !last)) {
			if (!paused || !last || ch == '.') {
				top_model_snapshot(m, &s);
				top_view_apply(v, &s);
				last = now;
			}
			top_draw(v, &s, paused, delay_ms);
		}
		timeout(100);
		ch = getch();
		if (ch != ERR && top_key(m, v, ch, &paused, &delay_ms, &help))
			break;
		if (ch != ERR && !help && s.rows) /* redraw at once with the new view */
			top_view_apply(v, &s);
	}
	endwin();
	top_snap_free(&s);
	return 0;
}
