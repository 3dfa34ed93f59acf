#!/bin/sh
# dyn forecast on weekly rows with a yearly pattern (period 52, too long for seasonal ETS): the
# default method subtracts a smoothed seasonal figure and beats the seasonal naive forecast.
. "$(dirname "$0")/lib.sh"

# Four years of Sundays from 2020-01-05: level 100, a yearly wave of amplitude 20, uniform
# noise of width 6 from the Park-Miller generator (exact in awk's doubles: the same file
# everywhere).
awk 'BEGIN {
	print "queueId,date,new_tickets"
	split("31 28 31 30 31 30 31 31 30 31 30 31", ml, " ")
	y = 2020; mo = 1; d = 5; x = 12345
	for (t = 0; t < 208; t++) {
		x = (16807 * x) % 2147483647
		printf "w,%04d-%02d-%02d,%.3f\n", y, mo, d, 100 + 20 * sin(2 * 3.14159265358979 * t / 52) + 6 * (x / 2147483647 - 0.5)
		d += 7
		len = ml[mo] + (mo == 2 && y % 4 == 0)
		if (d > len) { d -= len; mo++; if (mo > 12) { mo = 1; y++ } }
	}
}' >weekly.csv

expect_success 'auto names the seasonal adjustment and beats seasonal naive on the last year' '
	dyn -v --format csv forecast --backtest --horizon 52 weekly.csv >bt 2>err &&
	grep -q "season(52,K=" bt &&
	awk -F, "NR == 2 { exit !(\$(NF - 7) + 0 < \$(NF - 3) + 0) }" bt
'

expect_success 'forecasts follow the wave: the next year peaks about 13 weeks in' '
	dyn --format csv forecast --horizon 52 --level none weekly.csv >fc &&
	test $(wc -l <fc) -eq 53 &&
	awk -F, "NR > 1 && \$3 > max { max = \$3; at = NR - 1 } END { exit !(at >= 10 && at <= 16 && max > 112) }" fc
'

expect_success '--method ets takes the same route; theta does not' '
	dyn --format csv forecast --backtest --method ets --horizon 52 weekly.csv >bt2 &&
	grep -q "season(52,K=" bt2 &&
	dyn --format csv forecast --backtest --method theta --horizon 52 weekly.csv >bt3 &&
	! grep -q "season(52" bt3
'
