/* Fuzz target: ticket files: queueId,date,new_tickets rows with their dates and counts, and a
 * queue structure file, as `dyn stats` and `dyn forecast` read them. The first byte splits the
 * input into the queues file and the tickets file. */
#include "fuzz.h"
#include "base/base.h"
#include "ts/date.h"
#include "ts/tickets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_data d;
	struct ts_load_opts o = {0};
	struct err e = ERR_INIT;
	size_t cut;
	long day;
	const char *q, *t;
	if (size < 1)
		return 0;
	ts_date_parse((const char *)data + 1, size - 1 < 64 ? size - 1 : 64, &day);
	cut = 1 + (size - 1) * data[0] / 256;
	ts_data_init(&d);
	q = fuzz_file(data + 1, cut - 1, "queues.csv");
	if (q && (data[0] & 1) && ts_data_load_queues(&d, q, &o.rec, &e) < 0)
		goto out;
	t = fuzz_file(data + cut, size - cut, "tickets.csv");
	if (t) {
		o.dups = (data[0] & 2) ? TS_DUP_SUM : TS_DUP_ERROR;
		o.lenient = data[0] & 4;
		ts_data_load_tickets(&d, t, &o, &e);
	}
out:
	ts_data_release(&d);
	return 0;
}
