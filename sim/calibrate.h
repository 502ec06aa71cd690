// Calibration of profile parameters against the cover letter's tables A and
// B (issue 3 item 3, DESIGN §8).
//
// What may be fitted is declared in each profile's `calibration:` section;
// nothing else changes. Each entry names one or more profile costs and the
// physically plausible range of its value, with the reasoning:
//
//   calibration:
//     - name: wakeup_latency          # same name in two profiles = one shared parameter
//       keys: [wakeup_latency_ns]
//       mode: mean                    # the value is the cost's mean in ns (shape kept)
//       lower: 3000
//       upper: 40000
//       reason: "..."
//     - name: service_scale
//       keys: [service.read, service.write, service.randread, service.randwrite]
//       mode: scale                   # the value multiplies every listed cost's mean
//       lower: 0.4
//       upper: 2.5
//       reason: "..."
//
// The optimiser is Nelder-Mead over Eigen vectors, in the unit cube mapped to
// each parameter's bounds (logarithmically, since the bounds span factors).
// Why not Levenberg-Marquardt: the objective comes from simulation runs with
// common random numbers, so it is deterministic but piecewise flat and
// jagged at the scale of a finite-difference step; a Jacobian from finite
// differences would be noise, and each one would cost as many sweeps as
// there are parameters. Nelder-Mead needs only comparisons of objective
// values and tolerates that roughness.
#pragma once
#include <Eigen/Dense>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/tables.h"

namespace YAML { class Node; }

namespace pollsim {

struct FitParameter {
    std::string name;
    std::vector<std::string> keys;  // profile keys ("per_request_ns", "service.randread")
    bool scale = false;             // true: factor on the means; false: mean in ns of the (single) key
    double lower = 0, upper = 0;
    std::string reason;
    std::vector<std::string> profiles;  // files declaring it (shared parameters list several)
};

// Reads a profile's `calibration:` list. Throws InputError (file:line: key)
// for a missing field, lower >= upper, an unknown profile key, or mode mean
// with more than one key.
std::vector<FitParameter> read_fit_parameters(const YAML::Node& profile, const std::string& file);

// Merges the lists of several profiles: entries with the same name become
// one parameter (their keys, mode and bounds must agree). At most
// `max_parameters` in total.
std::vector<FitParameter> merge_fit_parameters(const std::vector<std::vector<FitParameter>>& lists, size_t max_parameters = 8);

// The parameter's value in a profile before fitting: the first key's mean
// for mode mean, 1 for mode scale.
double initial_value(const FitParameter& p, const nlohmann::ordered_json& profile_json);

// "costs.<key>=<dist>" overrides that give `profile_json` (profile_to_json
// of the source profile) the parameter values; the shape of every
// distribution is kept, only its mean moves. Throws InputError for costs
// that cannot be scaled (empirical files).
std::vector<std::string> cost_overrides(const std::vector<FitParameter>& params, const Eigen::VectorXd& values,
                                        const nlohmann::ordered_json& profile_json, const std::string& profile_file);

// Rounds fitted values to what a profile should say: whole nanoseconds for
// means, three significant digits for factors.
Eigen::VectorXd rounded_values(const std::vector<FitParameter>& params, const Eigen::VectorXd& values);

// ---- the optimiser ----

struct NelderMeadOptions {
    int max_evaluations = 150;
    double initial_step = 0.2;      // simplex edge in the unit cube
    double f_tolerance = 1e-6;      // stop when the simplex's f values agree this well (relative),
    double x_tolerance = 1e-3;      // or its vertices lie this close (unit cube)
};

struct NelderMeadResult {
    Eigen::VectorXd x;
    double f = 0;
    int evaluations = 0;
    bool converged = false;
    std::vector<double> best_f;     // best value after each iteration
};

// Minimises f over the box [lower, upper] (points are clamped into it).
// `f_x0`: f(x0) when the caller already has it (x0 inside the box), so it
// is not evaluated again.
NelderMeadResult nelder_mead(const std::function<double(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x0,
                             const Eigen::VectorXd& lower, const Eigen::VectorXd& upper,
                             const NelderMeadOptions& options = {}, std::optional<double> f_x0 = std::nullopt);

// Nelder-Mead restarted from its own result with a fresh simplex while it
// converges with budget left and the restart still improves f: a simplex
// that has collapsed (or stalled on a jagged objective) gets a new full-size
// one around the best point, so it is not the first basin's shape that stops
// the search. `restarts` counts the runs after the first.
struct RestartedResult : NelderMeadResult {
    int restarts = 0;
};
RestartedResult nelder_mead_restarted(const std::function<double(const Eigen::VectorXd&)>& f,
                                      const Eigen::VectorXd& x0, const Eigen::VectorXd& lower,
                                      const Eigen::VectorXd& upper, const NelderMeadOptions& options = {});

// `count` points of the Halton sequence in the unit cube of `dims`
// dimensions (at most 12): deterministic and evenly spread.
Eigen::MatrixXd halton_points(int count, int dims);

struct FitOptions {
    // Nelder-Mead is local. Before it starts, the start point and this many
    // Halton points over the whole box are evaluated and the best one seeds
    // the simplex, so a poor hand-made start does not decide the outcome.
    int design_points = 0;
    NelderMeadOptions nelder_mead;
};

// The calibration path: parameter values <-> unit cube (log scale between
// positive bounds), design points and Nelder-Mead in the cube, values back.
// `objective` takes parameter values. `start` is clamped into the bounds.
struct FitResult {
    Eigen::VectorXd values;
    double objective = 0;
    int evaluations = 0;          // design points included
    bool converged = false;
    int restarts = 0;             // Nelder-Mead runs after the first
    std::vector<double> best_f;   // best value after each Nelder-Mead iteration
};
FitResult fit_parameters(const std::vector<FitParameter>& params, const Eigen::VectorXd& start,
                         const std::function<double(const Eigen::VectorXd&)>& objective,
                         const FitOptions& options = {});

// The source profile YAML with the fitted values applied, a header saying
// where it came from, and its name suffixed "-calibrated".
std::string calibrated_profile_yaml(const std::string& source_text, const std::string& source_file,
                                    const std::vector<FitParameter>& params, const Eigen::VectorXd& values,
                                    const std::string& header_note);

// "<dir>/<stem>-calibrated.yaml" <-> "<dir>/<stem>.yaml".
std::string calibrated_path(const std::string& source_profile);
std::string source_of_calibrated(const std::string& calibrated_profile);

}  // namespace pollsim

// ---- the cover-letter problem ----

namespace pollsim {

// Residuals of tables A and B against the published figures, scaled so
// that |r| <= 1 is "on target": A in units of the tolerance (1.5 points of
// throughput, 3 of CPU), one term if weight 2 saves less CPU than weight 3,
// and for each B range the gap between simulated and published range in
// half-widths of the published range, plus a weak pull (0.3) of its middle
// towards the published middle so that overlapping is not the end of it.
Eigen::VectorXd calibration_residuals(const std::vector<RowA>& a, const std::vector<RowB>& b,
                                      const nlohmann::ordered_json& published);

// Sweeps A and B of `sweeps_dir` with the parameters of the source profiles
// behind their *-calibrated.yaml profiles. `fidelity_sets` shorten runs
// while fitting (e.g. duration=200ms).
class CoverLetterProblem {
public:
    CoverLetterProblem(const std::string& sweeps_dir, const std::vector<std::string>& fidelity_sets, int threads);

    const std::vector<FitParameter>& parameters() const { return params_; }
    const std::vector<std::string>& source_profiles() const { return sources_; }
    Eigen::VectorXd start() const;

    struct Evaluation {
        double objective = 0;
        Eigen::VectorXd residuals;
        std::vector<RowA> a;
        std::vector<RowB> b;
    };
    Evaluation evaluate(const Eigen::VectorXd& values) const;
    const nlohmann::ordered_json& published() const { return published_; }
    size_t point_count() const { return points_a_.size() + points_b_.size(); }

private:
    std::vector<SweepPoint> with_values(const std::vector<SweepPoint>& points, const SweepSpec& spec,
                                        const Eigen::VectorXd& values) const;

    SweepSpec spec_a_, spec_b_;
    std::vector<SweepPoint> points_a_, points_b_;
    std::vector<std::string> sources_;                 // source profile paths
    std::vector<nlohmann::ordered_json> source_json_;  // profile_to_json of each
    std::vector<FitParameter> params_;
    nlohmann::ordered_json published_;
    int threads_;
};

}  // namespace pollsim
