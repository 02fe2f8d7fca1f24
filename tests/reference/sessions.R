# Reference values for alliance_score.sessions, computed with R's psych package.
#
# Run from the repository root:  Rscript tests/reference/sessions.R
# Writes (committed; the Python tests read them, CI does not run R):
#   tests/reference/sessions_data.csv      simulated long table (client, therapist,
#                                          session, rater, total), unbalanced
#   tests/reference/sessions_sf.csv        Shrout & Fleiss (1979) 6 targets x 4 judges
#   tests/reference/sessions_expected.json expected statistics
suppressMessages(library(psych))
library(jsonlite)

out_dir <- file.path("tests", "reference")
set.seed(20240611)

# --- simulated sessions: 8 therapists, 40 clients, 1 to 12 sessions each ---------------
n_clients <- 40
therapist_of <- sample(sprintf("t%02d", 1:8), n_clients, replace = TRUE)
therapist_effect <- setNames(rnorm(8, 0, 0.7), sprintf("t%02d", 1:8))
rows <- list()
for (i in seq_len(n_clients)) {
  client <- sprintf("c%02d", i)
  th <- therapist_of[i]
  n_sess <- sample(1:12, 1)
  level <- 5 + therapist_effect[[th]] + rnorm(1, 0, 0.6)
  slope <- rnorm(1, 0.05, 0.05)
  for (s in seq_len(n_sess)) {
    true <- level + slope * s
    client_score <- round(min(7, max(1, true + rnorm(1, 0, 0.4))), 4)
    rows[[length(rows) + 1]] <- data.frame(
      client = client, therapist = th, session = s, rater = "client", total = client_score
    )
    if (runif(1) < 0.8) {  # therapists miss some sessions
      th_score <- round(min(7, max(1, true - 0.4 + rnorm(1, 0, 0.5))), 4)
      rows[[length(rows) + 1]] <- data.frame(
        client = client, therapist = th, session = s, rater = "therapist", total = th_score
      )
    }
  }
}
d <- do.call(rbind, rows)
write.csv(d, file.path(out_dir, "sessions_data.csv"), row.names = FALSE)

# --- ICC(A,1) and ICC(C,1) of client vs therapist on sessions both rated ---------------
cl <- d[d$rater == "client", c("client", "session", "total")]
th <- d[d$rater == "therapist", c("client", "session", "total")]
paired <- merge(cl, th, by = c("client", "session"), suffixes = c("_client", "_therapist"))
icc_pairs <- ICC(paired[, c("total_client", "total_therapist")], lmer = FALSE, alpha = 0.05)$results
pairs <- list(
  n_pairs = nrow(paired),
  mean_difference = mean(paired$total_client - paired$total_therapist),
  sd_difference = sd(paired$total_client - paired$total_therapist),
  r = cor(paired$total_client, paired$total_therapist),
  icc_a1 = icc_pairs["Single_random_raters", "ICC"],
  icc_a1_lower = icc_pairs["Single_random_raters", "lower bound"],
  icc_a1_upper = icc_pairs["Single_random_raters", "upper bound"],
  icc_c1 = icc_pairs["Single_fixed_raters", "ICC"],
  icc_c1_lower = icc_pairs["Single_fixed_raters", "lower bound"],
  icc_c1_upper = icc_pairs["Single_fixed_raters", "upper bound"]
)

# --- Shrout & Fleiss (1979) example: 6 targets x 4 judges (psych's 'sf' data) ---------
sf <- data.frame(
  J1 = c(9, 6, 8, 7, 10, 6), J2 = c(2, 1, 4, 1, 5, 2),
  J3 = c(5, 3, 6, 2, 6, 4), J4 = c(8, 2, 8, 6, 9, 7)
)
write.csv(sf, file.path(out_dir, "sessions_sf.csv"), row.names = FALSE)
icc_sf <- ICC(sf, lmer = FALSE, alpha = 0.05)$results
sf_expected <- list(
  icc_a1 = icc_sf["Single_random_raters", "ICC"],
  icc_a1_lower = icc_sf["Single_random_raters", "lower bound"],
  icc_a1_upper = icc_sf["Single_random_raters", "upper bound"],
  icc_c1 = icc_sf["Single_fixed_raters", "ICC"],
  icc_c1_lower = icc_sf["Single_fixed_raters", "lower bound"],
  icc_c1_upper = icc_sf["Single_fixed_raters", "upper bound"]
)

# every ICC psych reports (single and average measures), for four judges and for the
# first three: type, ICC, F, df1, df2, p, lower and upper bound
icc_rows <- function(x) {
  res <- ICC(x, lmer = FALSE, alpha = 0.05)$results
  lapply(seq_len(nrow(res)), function(i) list(
    type = res$type[i], icc = res$ICC[i], f = res$F[i], df1 = res$df1[i], df2 = res$df2[i],
    p = res$p[i], lower = res[i, "lower bound"], upper = res[i, "upper bound"]
  ))
}
sf_all <- list(judges4 = icc_rows(sf), judges3 = icc_rows(sf[, 1:3]))

# --- statsBy: sessions nested in clients (client ratings) -----------------------------
# (statsBy needs two or more variables; session is carried along and not used)
sb_client <- statsBy(cl[, c("client", "total", "session")], group = "client")
# therapist level: client means grouped by therapist
means <- aggregate(cbind(total, session) ~ client, data = cl, FUN = mean)
means$therapist <- therapist_of[match(means$client, sprintf("c%02d", 1:n_clients))]
sb_therapist <- statsBy(means[, c("therapist", "total", "session")], group = "therapist")
nested <- list(
  client = list(
    n_groups = length(unique(cl$client)), n_obs = nrow(cl),
    icc1 = unname(sb_client$ICC1["total"]), icc2 = unname(sb_client$ICC2["total"]),
    f = unname(sb_client$F["total"])
  ),
  therapist = list(
    n_groups = length(unique(means$therapist)), n_obs = nrow(means),
    icc1 = unname(sb_therapist$ICC1["total"]), icc2 = unname(sb_therapist$ICC2["total"]),
    f = unname(sb_therapist$F["total"])
  )
)

# --- per-client OLS slope and its standard error (client ratings) ---------------------
slopes <- lapply(split(cl, cl$client), function(x) {
  if (nrow(x) < 3) return(NULL)
  co <- coef(summary(lm(total ~ session, data = x)))
  data.frame(client = x$client[1], slope = co[2, 1], slope_se = co[2, 2])
})
slopes <- do.call(rbind, slopes)

expected <- list(
  generated_by = "tests/reference/sessions.R",
  psych_version = as.character(packageVersion("psych")),
  r_version = R.version.string,
  pairs = pairs,
  shrout_fleiss = sf_expected,
  shrout_fleiss_all = sf_all,
  nested = nested,
  slopes = slopes
)
write_json(expected, file.path(out_dir, "sessions_expected.json"),
           digits = NA, auto_unbox = TRUE, pretty = TRUE)
