# Prints the R reference numbers stored in tests/unit/t_ets.c and t_forecast.c.
# Run from testdata/ts: Rscript r_reference.R  (R 4.2.2, forecast 8.20, Debian r-cran-forecast)
suppressMessages(library(forecast))
options(digits=17)
p <- function(...) cat(..., "\n")
for (nm in c("AirPassengers","nottem","UKgas","Nile","WWWusage","USAccDeaths")) {
  y <- get(nm)
  fit <- ets(y)
  fc <- forecast(fit, h=12, level=c(80,95))
  p("##", nm, fit$method, "loglik", fit$loglik, "aicc", fit$aicc)
  p("par", names(fit$par)); p("par", fit$par)
  p("mean", as.numeric(fc$mean)); p("lo80", as.numeric(fc$lower[,1])); p("hi95", as.numeric(fc$upper[,2]))
}
fx <- list(c("AirPassengers","MAM"), c("UKgas","AAA"), c("USAccDeaths","MAA"), c("Nile","ANN"), c("WWWusage","AAN"), c("AirPassengers","MNM"))
for (f in fx) { y <- get(f[1]); fit <- ets(y, model=f[2], damped=grepl("d", f[2]) ); if (f[1]=="USAccDeaths") fit <- ets(y, model="MAA", damped=TRUE)
  fc <- forecast(fit, h=12)
  p("##fixed", f[1], fit$method, "loglik", fit$loglik, "aicc", fit$aicc)
  p("mean", as.numeric(fc$mean)); p("lo80", as.numeric(fc$lower[,1])); p("hi95", as.numeric(fc$upper[,2])) }
for (nm in c("AirPassengers","nottem","UKgas","Nile","WWWusage")) { y <- get(nm); fc <- thetaf(y, h=12)
  p("##theta", nm); p("mean", as.numeric(fc$mean)); p("lo80", as.numeric(fc$lower[,1])); p("hi95", as.numeric(fc$upper[,2])) }
for (nm in c("AirPassengers","UKgas")) { y <- get(nm); fc <- snaive(y, h=14)
  p("##snaive", nm); p("mean", as.numeric(fc$mean)); p("lo80", as.numeric(fc$lower[,1])); p("hi95", as.numeric(fc$upper[,2])) }
fc <- naive(Nile, h=5); p("##naive Nile"); p("mean", as.numeric(fc$mean)); p("lo80", as.numeric(fc$lower[,1])); p("hi95", as.numeric(fc$upper[,2]))
p("qnorm", qnorm(0.9), qnorm(0.975), qnorm(0.995), qnorm(0.95))
