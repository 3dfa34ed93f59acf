# R side of bench/forecast.sh: forecast::ets() (automatic selection) on every series of the
# long CSV, last H days held out; prints CPU and wall time and the mean MASE (seasonal-naive
# scaling, lag 7). Usage: Rscript r_bench.R FILE.csv H [NSERIES]
suppressMessages(library(forecast))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); h <- as.integer(args[2]); nmax <- if (length(args) > 2) as.integer(args[3]) else Inf
ids <- unique(d$queueId); ids <- ids[seq_len(min(length(ids), nmax))]
mase <- numeric(0); t0 <- proc.time()
for (q in ids) {
  y <- d$new_tickets[d$queueId == q]; n <- length(y)
  tr <- ts(y[1:(n-h)], frequency = 7); te <- y[(n-h+1):n]
  fc <- forecast(ets(tr), h = h)
  f <- pmax(as.numeric(fc$mean), 0)
  scale <- mean(abs(diff(as.numeric(tr), lag = 7)))
  mase <- c(mase, mean(abs(te - f)) / scale)
}
el <- proc.time() - t0
cat(sprintf("R series %d cpu %.3f wall %.3f mean_mase %.6f\n", length(ids), el[1] + el[2], el[3], mean(mase)))
