# Reference values for alliance_score.psychometrics, computed with R's psych package.
#
# Run from the repository root (Debian: apt-get install r-base-core r-cran-psych
# r-cran-gparotation r-cran-jsonlite):
#
#     Rscript tests/reference/psych_reliability.R
#
# It writes three data sets (raw answers as a respondent's export holds them, reverse-keyed
# items NOT yet reversed) and one long table of expected statistics:
#
#   tests/reference/psych_wai_s.csv    WAI-S layout, 1-7, items 4 and 10 reverse-keyed,
#                                      about 6% of cells missing (MCAR)
#   tests/reference/psych_wai_sr.csv   WAI-SR layout, 1-5, complete
#   tests/reference/psych_srs.csv      SRS layout, visual analogue 0-10 recorded to 0.1,
#                                      a few cells missing
#   tests/reference/psych_expected.csv dataset, missing, scale, item, statistic, value
#
# Reverse-keyed items are recoded here as min + max - x with the instrument's declared
# range (psych::alpha's `keys` argument would use the range observed in the data instead),
# and the keyed items are then passed to psych as they are.
suppressPackageStartupMessages(library(psych))

out_dir <- file.path("tests", "reference")
set.seed(20261126)

discretise <- function(z, lo, hi) pmin(hi, pmax(lo, round(z)))

simulate <- function(n, scales, loadings, lo, hi, centre, spread, step = 1) {
  g <- rnorm(n)
  items <- unlist(scales)
  x <- matrix(NA_real_, n, length(items))
  colnames(x) <- items
  for (s in names(scales)) {
    f <- rnorm(n)
    for (i in scales[[s]]) {
      z <- loadings[1] * g + loadings[2] * f + sqrt(1 - sum(loadings^2)) * rnorm(n)
      v <- centre + spread * z
      x[, i] <- if (step == 1) discretise(v, lo, hi) else pmin(hi, pmax(lo, round(v / step) * step))
    }
  }
  x
}

inject_missing <- function(x, rate, scales) {
  miss <- matrix(runif(length(x)) < rate, nrow(x))
  x[miss] <- NA
  # keep at least one answered item of every scale in every row (psych counts every row
  # it is given as an observation; alliance-score counts rows with an answered item)
  for (s in scales) {
    empty <- which(rowSums(!is.na(x[, s, drop = FALSE])) == 0)
    for (r in empty) x[r, s[1]] <- 4
  }
  x
}

datasets <- list()

# --- WAI-S layout: 1-7, items 4 and 10 reverse-keyed, missing cells ----------------------
wai_s_scales <- list(task = c("1", "2", "8", "12"), goal = c("4", "6", "10", "11"),
                     bond = c("3", "5", "7", "9"))
x <- simulate(400, wai_s_scales, c(0.65, 0.4), 1, 7, 5, 1.3)
x <- x[, as.character(1:12)]
x[, c("4", "10")] <- 8 - x[, c("4", "10")]          # stored as answered (raw)
x <- inject_missing(x, 0.06, wai_s_scales)
datasets$wai_s <- list(raw = x, lo = 1, hi = 7, reverse = c("4", "10"),
                       scales = c(wai_s_scales, list(total = as.character(1:12))))

# --- WAI-SR layout: 1-5, complete --------------------------------------------------------
wai_sr_scales <- list(task = c("1", "2", "10", "12"), bond = c("3", "5", "7", "9"),
                      goal = c("4", "6", "8", "11"))
x <- simulate(250, wai_sr_scales, c(0.6, 0.45), 1, 5, 3.6, 0.9)
x <- x[, as.character(1:12)]
datasets$wai_sr <- list(raw = x, lo = 1, hi = 5, reverse = character(0),
                        scales = c(wai_sr_scales, list(total = as.character(1:12))))

# --- SRS layout: VAS 0-10 to 0.1, a few missing cells ------------------------------------
srs_items <- c("relationship", "goals", "approach", "overall")
x <- simulate(150, list(total = srs_items), c(0.75, 0.0), 0, 10, 8, 1.4, step = 0.1)
x <- inject_missing(x, 0.03, list(srs_items))
datasets$srs <- list(raw = x, lo = 0, hi = 10, reverse = character(0),
                     scales = list(total = srs_items))

# --- WAI-SR layout with a constant item: item 5 answered 3 by everyone -------------------
# psych::alpha drops an item without variance (with a warning) and computes every
# statistic on the other items; psych::omega stops on it, so omega is that of the others.
x <- datasets$wai_sr$raw
x[, "5"] <- 3
datasets$constant <- list(raw = x, lo = 1, hi = 5, reverse = character(0),
                          scales = datasets$wai_sr$scales)

# --- psych-style keys without a definition: two 6-point scales, items A1, C4 and C5
# reverse-keyed (stored as answered), about 4% of cells missing. alliance-score is given
# keys = list(agree = c("-A1", "A2", ...), conscientious = ...), min = 1, max = 6;
# psych::reverse.code(keys, x, mini = 1, maxi = 6) is the same recoding.
keys_scales <- list(agree = paste0("A", 1:5), conscientious = paste0("C", 1:5))
x <- simulate(300, keys_scales, c(0.55, 0.5), 1, 6, 3.8, 1.2)
x[, c("A1", "C4", "C5")] <- 7 - x[, c("A1", "C4", "C5")]
x <- inject_missing(x, 0.04, keys_scales)
datasets$keys <- list(raw = x, lo = 1, hi = 6, reverse = c("A1", "C4", "C5"),
                      scales = keys_scales)

prefix <- c(wai_s = "wai_", wai_sr = "wai_", srs = "srs_", constant = "wai_", keys = "")
rows <- list()
add <- function(dataset, missing, scale, item, statistic, value) {
  rows[[length(rows) + 1]] <<- data.frame(
    dataset = dataset, missing = missing, scale = scale, item = item,
    statistic = statistic, value = as.numeric(value), stringsAsFactors = FALSE)
}

for (name in names(datasets)) {
  d <- datasets[[name]]
  raw <- d$raw
  written <- as.data.frame(raw)
  colnames(written) <- paste0(prefix[[name]], colnames(raw))
  write.csv(cbind(row = seq_len(nrow(raw)), written),
            file.path(out_dir, paste0("psych_", name, ".csv")), row.names = FALSE, na = "")

  keyed <- raw
  if (length(d$reverse)) keyed[, d$reverse] <- d$lo + d$hi - keyed[, d$reverse]

  # response frequencies of every item as answered (before reverse keying, as in
  # psych::alpha): proportions of answered values; `miss` is the proportion of rows
  # missing. psych gives them for items with at most `max` distinct values.
  if (name %in% c("wai_s", "wai_sr")) {
    freq <- response.frequencies(raw, max = 10)
    for (i in rownames(freq)) for (v in colnames(freq)) {
      add(name, "", "", i, paste0("freq_", v), freq[i, v])
    }
  }

  for (missing in c("pairwise", "listwise")) {
    for (scale in names(d$scales)) {
      xs <- keyed[, d$scales[[scale]], drop = FALSE]
      if (missing == "listwise") xs <- na.omit(xs)
      a <- suppressWarnings(alpha(xs, warnings = FALSE))
      varies <- apply(xs, 2, sd, na.rm = TRUE) > 0
      add(name, missing, scale, "", "n", nrow(xs))
      add(name, missing, scale, "", "n_items", sum(varies))
      add(name, missing, scale, "", "lambda6", a$total[["G6(smc)"]])
      add(name, missing, scale, "", "alpha", a$total$raw_alpha)
      add(name, missing, scale, "", "alpha_std", a$total$std.alpha)
      add(name, missing, scale, "", "average_r", a$total$average_r)
      add(name, missing, scale, "", "feldt_lower", a$feldt$lower.ci)
      add(name, missing, scale, "", "feldt_upper", a$feldt$upper.ci)
      a90 <- alpha.ci(a$total$raw_alpha, nrow(xs), sum(varies), p.val = 0.10)
      add(name, missing, scale, "", "feldt_lower_90", a90$lower.ci)
      add(name, missing, scale, "", "feldt_upper_90", a90$upper.ci)
      om <- suppressWarnings(suppressMessages(
        omega(xs[, varies, drop = FALSE], nfactors = 1, fm = "minres", plot = FALSE)))
      add(name, missing, scale, "", "omega_total", om$omega.tot)
      for (i in colnames(xs)[varies]) {
        add(name, missing, scale, i, "r_drop", a$item.stats[i, "r.drop"])
        add(name, missing, scale, i, "alpha_if_dropped", a$alpha.drop[i, "raw_alpha"])
        add(name, missing, scale, i, "mean", a$item.stats[i, "mean"])
        add(name, missing, scale, i, "sd", a$item.stats[i, "sd"])
        add(name, missing, scale, i, "n", a$item.stats[i, "n"])
        add(name, missing, scale, i, "loading", om$schmid$sl[i, 1])
      }
    }
    # scoreItems: every scale at once, keys all positive (items already keyed)
    keys <- d$scales
    xs <- keyed
    if (missing == "listwise" || name == "constant") xs <- NULL
    if (!is.null(xs)) {
      si <- scoreItems(keys, xs, impute = "none")
      for (scale in names(keys)) {
        add(name, missing, scale, "", "scoreitems_alpha", si$alpha[1, scale])
        add(name, missing, scale, "", "scoreitems_av_r", si$av.r[1, scale])
      }
    }
  }
}

expected <- do.call(rbind, rows)
expected$value <- formatC(expected$value, digits = 15, format = "g")
write.csv(expected, file.path(out_dir, "psych_expected.csv"), row.names = FALSE)
cat(sprintf("psych %s, %s: wrote %d expected values\n",
            as.character(packageVersion("psych")), R.version.string, nrow(expected)))
