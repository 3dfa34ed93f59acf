# R side of bench/weekly.sh: on every series of the long CSV (one row a week), holds out the last
# H weeks and forecasts them from the rest with forecast::ets() (automatic; it fits no seasonal
# model for frequency 52 > 24), thetaf(), stlf() and snaive(), frequency 52. Prints one line per
# method: series, fit+forecast CPU and wall seconds (R's start and reading excluded), mean MASE
# (scaled by the in-sample seasonal naive MAE, lag 52, as accuracy() does), mean sMAPE (percent,
# 0..200), mean 95% interval coverage. With a third argument, also writes per-series rows there.
# Usage: Rscript r_weekly.R FILE.csv H [PERSERIES.csv]
suppressMessages(library(forecast))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); h <- as.integer(args[2])
ids <- unique(d$queueId)
methods <- list(
  ets = function(tr) forecast(ets(tr), h = h, level = 95),
  thetaf = function(tr) thetaf(tr, h = h, level = 95),
  stlf = function(tr) stlf(tr, h = h, level = 95),
  snaive = function(tr) snaive(tr, h = h, level = 95))
rows <- NULL
for (name in names(methods)) {
  f <- methods[[name]]
  mase <- smape <- cov <- numeric(0); model <- character(0)
  cpu <- 0; wall <- 0
  for (q in ids) {
    y <- d$new_tickets[d$queueId == q]; n <- length(y)
    tr <- ts(y[1:(n - h)], frequency = 52); te <- y[(n - h + 1):n]
    t0 <- proc.time()
    fc <- f(tr)
    el <- proc.time() - t0
    cpu <- cpu + el[1] + el[2]; wall <- wall + el[3]
    m <- as.numeric(fc$mean); lo <- as.numeric(fc$lower); hi <- as.numeric(fc$upper)
    scale <- mean(abs(diff(as.numeric(tr), lag = 52)))
    den <- abs(te) + abs(m)
    mase <- c(mase, mean(abs(te - m)) / scale)
    smape <- c(smape, mean(ifelse(den > 0, 200 * abs(te - m) / den, 0)))
    cov <- c(cov, mean(te >= lo & te <= hi))
    model <- c(model, if (!is.null(fc$method)) fc$method else name)
  }
  cat(sprintf("R %s series %d cpu %.3f wall %.3f mean_mase %.6f mean_smape %.4f coverage_95 %.4f\n",
              name, length(ids), cpu, wall, mean(mase), mean(smape), mean(cov)))
  rows <- rbind(rows, data.frame(tool = "R", method = name, queue_id = ids, model = model,
                                 mase = mase, smape = smape, coverage_95 = cov))
}
if (length(args) > 2) write.csv(rows, args[3], row.names = FALSE)
