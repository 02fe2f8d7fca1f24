# Reference values for the catalogue's provisional keys and weighted items, computed
# with R's psych package (not with alliance-score). Run from tests/reference/:
#   Rscript catalogue.R
# Reads catalogue_tps_items.csv and catalogue_weighted_items.csv; writes
# catalogue_tps_expected.csv and catalogue_weighted_expected.csv.
suppressPackageStartupMessages(library(psych))

# Trust in Physician Scale as recorded in instruments/tps.toml: 11 items 1-5, items 1, 5,
# 7, 11 reverse-keyed (6 - x). scoreItems with impute = "none" gives the mean of the
# answered items after reversal.
tps <- read.csv("catalogue_tps_items.csv")
keys <- list(total = c("-i1", "i2", "i3", "i4", "-i5", "i6", "-i7", "i8", "i9", "i10", "-i11"))
scored <- scoreItems(keys, tps, totals = FALSE, impute = "none", min = 1, max = 5)
mean_score <- as.numeric(scored$scores[, "total"])
n_answered <- rowSums(!is.na(tps))
out <- data.frame(
  n_answered = n_answered,
  mean = mean_score,
  total = mean_score * 11,               # sum; prorated as mean x 11 when items are missing
  total_0_100 = (mean_score - 1) / 4 * 100  # Thom's transform
)
write.csv(out, "catalogue_tps_expected.csv", row.names = FALSE)

# Weighted items: weights 2, 1, 0.5, 1 on four complete 1-5 items. scoreWtd with
# sums = TRUE and std = FALSE is the weighted sum, sum(w x).
wt_items <- read.csv("catalogue_weighted_items.csv")
weights <- matrix(c(2, 1, 0.5, 1), ncol = 1, dimnames = list(names(wt_items), "total"))
wsum <- as.numeric(scoreWtd(weights, wt_items, std = FALSE, sums = TRUE))
write.csv(
  data.frame(weighted_sum = wsum, weighted_mean = wsum / sum(weights)),
  "catalogue_weighted_expected.csv", row.names = FALSE
)
