# Time psych::scoreItems on the benchmark matrix (raw little-endian float64, rows x 12).
# Usage: Rscript bench/psych_score.R FILE.f64 N_ROWS 'task=1,2;bond=3,5;...' [OUT.csv]
# Prints the elapsed seconds of the scoreItems call alone (reading the file is not timed).
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]
n <- as.numeric(args[2])
suppressMessages(library(psych))
con <- file(path, "rb")
x <- readBin(con, "double", n = n * 12, size = 8, endian = "little")
close(con)
m <- matrix(x, ncol = 12, byrow = TRUE)
colnames(m) <- paste0("wai_", 1:12)
keys <- list()
for (spec in strsplit(args[3], ";")[[1]]) {
  parts <- strsplit(spec, "=")[[1]]
  keys[[parts[1]]] <- paste0("wai_", strsplit(parts[2], ",")[[1]])
}
elapsed <- system.time(
  s <- scoreItems(keys, m, totals = FALSE, missing = TRUE, impute = "none", min = 1, max = 5)
)[["elapsed"]]
cat(sprintf("%.4f\n", elapsed))
if (length(args) >= 4) write.csv(s$scores, args[4], row.names = FALSE)
