#include "sim/calibrate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <yaml-cpp/yaml.h>

#include "sim/error.h"
#include "sim/source_file.h"
#include "sim/profile.h"
#include "sim/runner.h"

namespace fs = std::filesystem;

namespace pollsim {

using ojson = nlohmann::ordered_json;

// ---- parameters ----

namespace {

double bound_value(const YAML::Node& n, const std::string& file, const std::string& key) {
    if (!n || !n.IsScalar()) throw InputError(yaml_where(n, file, key) + ": expected a number or a duration");
    try {
        return n.as<double>();
    } catch (const YAML::Exception&) {
    }
    try {
        return static_cast<double>(parse_duration_ns(n.Scalar()));
    } catch (const std::exception& e) {
        throw InputError(yaml_where(n, file, key) + ": " + e.what());
    }
}

FitParameter read_entry(const YAML::Node& e, const std::string& file, size_t index) {
    const std::string at = "calibration[" + std::to_string(index) + "]";
    if (!e.IsMap()) throw InputError(yaml_where(e, file, at) + ": expected a map (name, keys, mode, lower, upper, reason)");
    static const std::vector<std::string> fields = {"name", "keys", "mode", "lower", "upper", "reason"};
    for (const auto& kv : e)
        if (std::find(fields.begin(), fields.end(), kv.first.Scalar()) == fields.end())
            throw InputError(yaml_where(kv.first, file, at + "." + kv.first.Scalar()) +
                             ": unknown field (valid: name, keys, mode, lower, upper, reason)");
    for (const auto& f : fields)
        if (!e[f]) throw InputError(yaml_where(e, file, at) + ": missing '" + f + "'");

    FitParameter p;
    p.name = e["name"].Scalar();
    const YAML::Node keys = e["keys"];
    const auto valid = profile_keys();
    for (const auto& k : keys.IsSequence() ? keys : YAML::Node(std::vector<std::string>{keys.Scalar()})) {
        if (std::find(valid.begin(), valid.end(), k.Scalar()) == valid.end())
            throw InputError(yaml_where(k, file, at + ".keys") + ": '" + k.Scalar() + "' is not a profile cost");
        p.keys.push_back(k.Scalar());
    }
    if (p.keys.empty()) throw InputError(yaml_where(keys, file, at + ".keys") + ": empty");
    const std::string mode = e["mode"].Scalar();
    if (mode != "mean" && mode != "scale")
        throw InputError(yaml_where(e["mode"], file, at + ".mode") + ": must be 'mean' or 'scale'");
    p.scale = mode == "scale";
    if (!p.scale && p.keys.size() != 1)
        throw InputError(yaml_where(keys, file, at + ".keys") + ": mode 'mean' takes exactly one key");
    p.lower = bound_value(e["lower"], file, at + ".lower");
    p.upper = bound_value(e["upper"], file, at + ".upper");
    if (!(p.lower < p.upper) || p.lower < 0)
        throw InputError(yaml_where(e["upper"], file, at) + ": needs 0 <= lower < upper");
    p.reason = e["reason"].Scalar();
    p.profiles = {file};
    return p;
}

const ojson& cost_json(const ojson& profile_json, const std::string& key) {
    const ojson* node = &profile_json;
    std::stringstream ss(key);
    for (std::string part; std::getline(ss, part, '.');) node = &node->at(part);
    return *node;
}

double mean_of_cost(const ojson& cost) {
    if (cost.is_number()) return cost.get<double>();
    if (cost.contains("mean_ns")) return cost["mean_ns"].get<double>();
    if (cost.contains("lo_ns")) return (cost["lo_ns"].get<double>() + cost["hi_ns"].get<double>()) / 2;
    return 0;
}

// The cost with its mean moved to the parameter's value (or multiplied by
// it), its shape kept.
ojson moved_cost(const ojson& cost, const FitParameter& p, double value, const std::string& key, const std::string& file) {
    const double mean = mean_of_cost(cost);
    const double factor = p.scale ? value : (mean > 0 ? value / mean : 0);
    if (cost.is_number()) return static_cast<int64_t>(std::llround(p.scale ? mean * value : value));
    const std::string dist = cost.value("dist", "");
    ojson out = cost;
    if (dist == "lognormal" || dist == "exponential") {
        // Whole nanoseconds: the written profile then says exactly what was simulated.
        out["mean_ns"] = static_cast<int64_t>(std::llround(p.scale ? mean * value : value));
    } else if (dist == "uniform") {
        out["lo_ns"] = static_cast<int64_t>(std::llround(cost["lo_ns"].get<double>() * factor));
        out["hi_ns"] = static_cast<int64_t>(std::llround(cost["hi_ns"].get<double>() * factor));
    } else {
        throw InputError(file + ": calibration parameter '" + p.name + "': cost '" + key + "' (" + dist +
                         ") cannot be moved; use a constant, lognormal, exponential or uniform cost");
    }
    return out;
}

}  // namespace

std::vector<FitParameter> read_fit_parameters(const YAML::Node& profile, const std::string& file) {
    const YAML::Node list = profile["calibration"];
    if (!list) throw InputError(file + ": no 'calibration:' section (parameters to fit, with bounds)");
    if (!list.IsSequence()) throw InputError(yaml_where(list, file, "calibration") + ": expected a list of parameters");
    std::vector<FitParameter> out;
    for (size_t i = 0; i < list.size(); ++i) out.push_back(read_entry(list[i], file, i));
    return out;
}

std::vector<FitParameter> merge_fit_parameters(const std::vector<std::vector<FitParameter>>& lists, size_t max_parameters) {
    std::vector<FitParameter> merged;
    for (const auto& list : lists) {
        for (const auto& p : list) {
            auto same = std::find_if(merged.begin(), merged.end(), [&](const FitParameter& m) { return m.name == p.name; });
            if (same == merged.end()) {
                merged.push_back(p);
                continue;
            }
            if (same->keys != p.keys || same->scale != p.scale || same->lower != p.lower || same->upper != p.upper)
                throw InputError(p.profiles.front() + ": calibration parameter '" + p.name +
                                 "' is shared with " + same->profiles.front() +
                                 " but its keys, mode or bounds differ there");
            same->profiles.push_back(p.profiles.front());
        }
    }
    if (merged.size() > max_parameters)
        throw InputError("calibration: " + std::to_string(merged.size()) + " parameters declared; at most " +
                         std::to_string(max_parameters) + " may be fitted");
    return merged;
}

double initial_value(const FitParameter& p, const ojson& profile_json) {
    return p.scale ? 1.0 : mean_of_cost(cost_json(profile_json, p.keys.front()));
}

std::vector<std::string> cost_overrides(const std::vector<FitParameter>& params, const Eigen::VectorXd& values,
                                        const ojson& profile_json, const std::string& profile_file) {
    std::vector<std::string> sets;
    for (size_t i = 0; i < params.size(); ++i)
        for (const auto& key : params[i].keys)
            sets.push_back("costs." + key + "=" +
                           moved_cost(cost_json(profile_json, key), params[i], values[static_cast<Eigen::Index>(i)], key,
                                      profile_file)
                               .dump());
    return sets;
}

Eigen::VectorXd rounded_values(const std::vector<FitParameter>& params, const Eigen::VectorXd& values) {
    Eigen::VectorXd out = values;
    for (Eigen::Index i = 0; i < values.size(); ++i) {
        const double v = values[i];
        if (!params[static_cast<size_t>(i)].scale || v == 0) {
            out[i] = std::round(v);
        } else {
            const double mag = std::pow(10.0, std::floor(std::log10(std::abs(v))) - 2);
            out[i] = std::round(v / mag) * mag;
        }
    }
    return out;
}

// ---- Nelder-Mead ----

NelderMeadResult nelder_mead(const std::function<double(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x0,
                             const Eigen::VectorXd& lower, const Eigen::VectorXd& upper, const NelderMeadOptions& opt,
                             std::optional<double> f_x0) {
    const Eigen::Index n = x0.size();
    NelderMeadResult res;
    auto clamp = [&](const Eigen::VectorXd& x) -> Eigen::VectorXd { return x.cwiseMax(lower).cwiseMin(upper); };
    auto eval = [&](const Eigen::VectorXd& x) {
        ++res.evaluations;
        return f(x);
    };

    // Initial simplex: x0 and one step along each axis (backwards at an upper bound).
    std::vector<Eigen::VectorXd> simplex(static_cast<size_t>(n + 1), clamp(x0));
    Eigen::VectorXd fv(n + 1);
    fv[0] = f_x0 ? *f_x0 : eval(simplex[0]);
    for (Eigen::Index i = 0; i < n; ++i) {
        Eigen::VectorXd v = simplex[0];
        const double step = opt.initial_step * (upper[i] - lower[i]);
        v[i] = v[i] + step <= upper[i] ? v[i] + step : v[i] - step;
        simplex[static_cast<size_t>(i + 1)] = clamp(v);
        fv[i + 1] = eval(simplex[static_cast<size_t>(i + 1)]);
    }

    std::vector<Eigen::Index> order(static_cast<size_t>(n + 1));
    while (true) {
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) { return fv[a] < fv[b]; });
        const Eigen::Index best = order.front(), worst = order.back(), second = order[order.size() - 2];
        res.best_f.push_back(fv[best]);

        double spread_x = 0;
        for (const auto& v : simplex) spread_x = std::max(spread_x, (v - simplex[static_cast<size_t>(best)]).cwiseAbs().maxCoeff());
        // A simulated objective is jagged at small scales: once the simplex
        // is this small its f values differ by noise, so size alone decides.
        const bool flat = fv[worst] - fv[best] <= opt.f_tolerance * (1.0 + std::abs(fv[best]));
        if (flat || spread_x <= opt.x_tolerance) {
            res.converged = true;
            break;
        }
        if (res.evaluations >= opt.max_evaluations) break;

        Eigen::VectorXd centroid = Eigen::VectorXd::Zero(n);
        for (Eigen::Index i = 0; i <= n; ++i)
            if (i != worst) centroid += simplex[static_cast<size_t>(i)];
        centroid /= static_cast<double>(n);
        const Eigen::VectorXd& xw = simplex[static_cast<size_t>(worst)];

        auto replace_worst = [&](const Eigen::VectorXd& x, double fx) {
            simplex[static_cast<size_t>(worst)] = x;
            fv[worst] = fx;
        };
        const Eigen::VectorXd xr = clamp(centroid + (centroid - xw));
        const double fr = eval(xr);
        if (fr < fv[best]) {
            const Eigen::VectorXd xe = clamp(centroid + 2.0 * (centroid - xw));
            const double fe = eval(xe);
            if (fe < fr) replace_worst(xe, fe);
            else replace_worst(xr, fr);
            continue;
        }
        if (fr < fv[second]) {
            replace_worst(xr, fr);
            continue;
        }
        // Contract towards the better of the reflected and the worst point.
        const bool outside = fr < fv[worst];
        const Eigen::VectorXd xc = clamp(centroid + 0.5 * ((outside ? xr : xw) - centroid));
        const double fc = eval(xc);
        if (fc < (outside ? fr : fv[worst])) {
            replace_worst(xc, fc);
            continue;
        }
        // Shrink everything towards the best vertex.
        for (Eigen::Index i = 0; i <= n; ++i) {
            if (i == best) continue;
            auto& v = simplex[static_cast<size_t>(i)];
            v = clamp(simplex[static_cast<size_t>(best)] + 0.5 * (v - simplex[static_cast<size_t>(best)]));
            fv[i] = eval(v);
        }
    }
    Eigen::Index best = 0;
    fv.minCoeff(&best);
    res.x = simplex[static_cast<size_t>(best)];
    res.f = fv[best];
    return res;
}

namespace {

// Bounds spanning a factor are searched on a log scale, so that a step
// means the same relative change anywhere in the range.
bool log_scaled(const FitParameter& p) { return p.lower > 0; }

double to_unit(const FitParameter& p, double v) {
    v = std::clamp(v, p.lower, p.upper);
    return log_scaled(p) ? std::log(v / p.lower) / std::log(p.upper / p.lower) : (v - p.lower) / (p.upper - p.lower);
}

double from_unit(const FitParameter& p, double u) {
    return log_scaled(p) ? p.lower * std::pow(p.upper / p.lower, u) : p.lower + u * (p.upper - p.lower);
}

}  // namespace

RestartedResult nelder_mead_restarted(const std::function<double(const Eigen::VectorXd&)>& f,
                                      const Eigen::VectorXd& x0, const Eigen::VectorXd& lower,
                                      const Eigen::VectorXd& upper, const NelderMeadOptions& options) {
    RestartedResult total;
    static_cast<NelderMeadResult&>(total) = nelder_mead(f, x0, lower, upper, options);
    const Eigen::Index n = x0.size();
    while (total.converged && options.max_evaluations - total.evaluations >= n + 2) {
        NelderMeadOptions rest = options;
        rest.max_evaluations = options.max_evaluations - total.evaluations;
        const NelderMeadResult r = nelder_mead(f, total.x, lower, upper, rest, total.f);
        ++total.restarts;
        total.evaluations += r.evaluations;
        for (double b : r.best_f) total.best_f.push_back(std::min(b, total.f));
        const bool improved = r.f < total.f - options.f_tolerance * (1.0 + std::abs(total.f));
        if (r.f < total.f) {
            total.x = r.x;
            total.f = r.f;
        }
        total.converged = r.converged;
        if (!improved) break;  // a fresh simplex around the best found nothing better
    }
    return total;
}

Eigen::MatrixXd halton_points(int count, int dims) {
    static const int primes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (dims > 12) throw std::invalid_argument("halton_points: at most 12 dimensions");
    Eigen::MatrixXd pts(count, dims);
    for (int i = 0; i < count; ++i) {
        for (int d = 0; d < dims; ++d) {
            // Radical inverse of i+1 in base p (index 0 would be the origin).
            double f = 1, r = 0;
            for (int k = i + 1; k > 0; k /= primes[d]) {
                f /= primes[d];
                r += f * (k % primes[d]);
            }
            pts(i, d) = r;
        }
    }
    return pts;
}

FitResult fit_parameters(const std::vector<FitParameter>& params, const Eigen::VectorXd& start,
                         const std::function<double(const Eigen::VectorXd&)>& objective, const FitOptions& options) {
    const auto n = static_cast<Eigen::Index>(params.size());
    auto values_of = [&](const Eigen::VectorXd& u) {
        Eigen::VectorXd v(n);
        for (Eigen::Index i = 0; i < n; ++i) v[i] = from_unit(params[static_cast<size_t>(i)], u[i]);
        return v;
    };
    auto f = [&](const Eigen::VectorXd& u) { return objective(values_of(u)); };

    Eigen::VectorXd best_u(n);
    for (Eigen::Index i = 0; i < n; ++i) best_u[i] = to_unit(params[static_cast<size_t>(i)], start[i]);
    double best_f = f(best_u);
    const Eigen::MatrixXd design = halton_points(options.design_points, static_cast<int>(n));
    for (Eigen::Index k = 0; k < design.rows(); ++k) {
        const double fk = f(design.row(k).transpose());
        if (fk < best_f) best_f = fk, best_u = design.row(k).transpose();
    }
    const int spent = 1 + options.design_points;
    NelderMeadOptions nm_options = options.nelder_mead;
    nm_options.max_evaluations = std::max(n + 2, static_cast<Eigen::Index>(nm_options.max_evaluations - spent));
    const RestartedResult nm =
        nelder_mead_restarted(f, best_u, Eigen::VectorXd::Zero(n), Eigen::VectorXd::Ones(n), nm_options);
    return {values_of(nm.x), nm.f, spent + nm.evaluations, nm.converged, nm.restarts, nm.best_f};
}

// ---- writing the fitted profile ----

namespace {

YAML::Node node_at(YAML::Node root, const std::string& key) {
    std::stringstream ss(key);
    std::vector<std::string> parts;
    for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
    // reset() rebinds; yaml-cpp's operator= would overwrite the node's value.
    YAML::Node n = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) n.reset(n[parts[i]]);
    return n;
}

std::string last_part(const std::string& key) { return key.substr(key.rfind('.') + 1); }

// Distributions read best on one line, as in the hand-written profiles.
void flow_style_dists(YAML::Node n) {
    if (!n.IsMap()) return;
    if (n["dist"]) {
        n.SetStyle(YAML::EmitterStyle::Flow);
        return;
    }
    for (auto kv : n)
        if (kv.first.Scalar() != "calibration") flow_style_dists(kv.second);
}

std::string comment_lines(const std::string& text) {
    std::string out;
    std::stringstream ss(text);
    for (std::string line; std::getline(ss, line);) out += "# " + line + "\n";
    return out;
}

}  // namespace

std::string calibrated_profile_yaml(const std::string& source_text, const std::string& source_file,
                                    const std::vector<FitParameter>& params, const Eigen::VectorXd& values,
                                    const std::string& header_note) {
    YAML::Node root = parse_yaml(source_text, source_file);
    const ojson profile_json = profile_to_json(profile_from_yaml(root, source_file));
    for (size_t i = 0; i < params.size(); ++i) {
        const auto& files = params[i].profiles;
        if (std::find(files.begin(), files.end(), source_file) == files.end()) continue;
        for (const auto& key : params[i].keys) {
            const ojson moved = moved_cost(cost_json(profile_json, key), params[i], values[static_cast<Eigen::Index>(i)],
                                           key, source_file);
            node_at(root, key)[last_part(key)] = YAML::Load(moved.dump());
        }
    }
    const std::string name = root["name"] ? root["name"].Scalar() : fs::path(source_file).stem().string();
    root["name"] = name + "-calibrated";
    root["description"] = "Generated by `pollsim calibrate` from " + fs::path(source_file).filename().string() +
                          ", whose comments give the reasoning for every cost; only the parameters listed under "
                          "'calibration' were fitted.";
    flow_style_dists(root);
    YAML::Emitter out;
    out << root;
    return comment_lines("GENERATED by `pollsim calibrate` from " + fs::path(source_file).filename().string() +
                         "; do not edit, rerun the calibration.\n" + header_note) +
           out.c_str() + "\n";
}

std::string calibrated_path(const std::string& source_profile) {
    const fs::path p(source_profile);
    return (p.parent_path() / (p.stem().string() + "-calibrated" + p.extension().string())).string();
}

std::string source_of_calibrated(const std::string& calibrated_profile) {
    const fs::path p(calibrated_profile);
    const std::string stem = p.stem().string();
    const std::string suffix = "-calibrated";
    if (stem.size() <= suffix.size() || stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) != 0)
        throw InputError("calibrate: the cover-letter sweeps must use *-calibrated.yaml profiles; got '" +
                         calibrated_profile + "'");
    return (p.parent_path() / (stem.substr(0, stem.size() - suffix.size()) + p.extension().string())).string();
}

// ---- the cover-letter problem ----

Eigen::VectorXd calibration_residuals(const std::vector<RowA>& a, const std::vector<RowB>& b, const ojson& published) {
    std::vector<double> r;
    for (const auto& res : residuals(a, b, published)) {
        if (res.figure.rfind("A ", 0) == 0) r.push_back((res.simulated - res.published) / res.tolerance);
    }
    const RowA *w2 = nullptr, *w3 = nullptr;
    for (const auto& row : a) {
        if (row.poll_weight == 2) w2 = &row;
        if (row.poll_weight == 3) w3 = &row;
    }
    if (w2 && w3) r.push_back(std::max(0.0, w2->cpu_pct.mean - w3->cpu_pct.mean) / 0.5);
    for (const auto& p : published["B"]) {
        const auto row = std::find_if(b.begin(), b.end(), [&](const RowB& x) { return x.iothreads == p["iothreads"]; });
        if (row == b.end()) continue;
        auto range_terms = [&](const ojson& pub, const RangeEnd& lo, const RangeEnd& hi) {
            const double pub_lo = pub[0], pub_hi = pub[1];
            const double half = (pub_hi - pub_lo) / 2;
            const double gap = std::max({0.0, pub_lo - hi.value.mean, lo.value.mean - pub_hi});
            r.push_back(gap / half);
            r.push_back(0.3 * ((lo.value.mean + hi.value.mean) / 2 - (pub_lo + pub_hi) / 2) / half);
        };
        range_terms(p["throughput_change_pct"], row->throughput_lo, row->throughput_hi);
        range_terms(p["cpu_change_pct"], row->cpu_lo, row->cpu_hi);
    }
    return Eigen::Map<Eigen::VectorXd>(r.data(), static_cast<Eigen::Index>(r.size()));
}

CoverLetterProblem::CoverLetterProblem(const std::string& sweeps_dir, const std::vector<std::string>& fidelity_sets,
                                       int threads)
    : threads_(threads) {
    spec_a_ = load_sweep((fs::path(sweeps_dir) / "a.yaml").string());
    spec_b_ = load_sweep((fs::path(sweeps_dir) / "b.yaml").string());
    published_ = load_published(sweeps_dir);
    points_a_ = resolve_points(spec_a_, fidelity_sets);
    points_b_ = resolve_points(spec_b_, fidelity_sets);

    std::vector<std::vector<FitParameter>> lists;
    for (const auto* points : {&points_a_, &points_b_}) {
        for (const auto& p : *points) {
            const std::string source = source_of_calibrated(p.config.profile_path);
            if (std::find(sources_.begin(), sources_.end(), source) != sources_.end()) continue;
            const YAML::Node node = parse_yaml(read_source(source, "calibrate: source profile").text, source);
            sources_.push_back(source);
            source_json_.push_back(profile_to_json(profile_from_yaml(node, source)));
            lists.push_back(read_fit_parameters(node, source));
        }
    }
    params_ = merge_fit_parameters(lists);
}

Eigen::VectorXd CoverLetterProblem::start() const {
    Eigen::VectorXd x(static_cast<Eigen::Index>(params_.size()));
    for (size_t i = 0; i < params_.size(); ++i) {
        const size_t src = static_cast<size_t>(
            std::find(sources_.begin(), sources_.end(), params_[i].profiles.front()) - sources_.begin());
        x[static_cast<Eigen::Index>(i)] =
            std::clamp(initial_value(params_[i], source_json_[src]), params_[i].lower, params_[i].upper);
    }
    return x;
}

std::vector<SweepPoint> CoverLetterProblem::with_values(const std::vector<SweepPoint>& points, const SweepSpec& spec,
                                                        const Eigen::VectorXd& values) const {
    // Per source profile: the overrides of the parameters it declares.
    std::map<std::string, std::vector<std::string>> overrides;
    for (size_t s = 0; s < sources_.size(); ++s) {
        std::vector<FitParameter> mine;
        std::vector<double> mine_values;
        for (size_t i = 0; i < params_.size(); ++i) {
            const auto& files = params_[i].profiles;
            if (std::find(files.begin(), files.end(), sources_[s]) == files.end()) continue;
            mine.push_back(params_[i]);
            mine_values.push_back(values[static_cast<Eigen::Index>(i)]);
        }
        overrides[sources_[s]] = cost_overrides(
            mine, Eigen::Map<Eigen::VectorXd>(mine_values.data(), static_cast<Eigen::Index>(mine_values.size())),
            source_json_[s], sources_[s]);
    }
    std::vector<SweepPoint> out;
    for (const auto& p : points) {
        const std::string source = source_of_calibrated(p.config.profile_path);
        SweepPoint q;
        q.vary = p.vary;
        q.sets = p.sets;
        q.sets.push_back("profile=" + source);
        const auto& o = overrides.at(source);
        q.sets.insert(q.sets.end(), o.begin(), o.end());
        q.config = load_config(spec.base_path, q.sets);
        q.config.threads = 1;
        q.key = point_key(q.config);
        out.push_back(std::move(q));
    }
    return out;
}

CoverLetterProblem::Evaluation CoverLetterProblem::evaluate(const Eigen::VectorXd& values) const {
    SweepOptions options;
    options.threads = threads_;
    const PooledResult pooled =
        run_pooled({with_values(points_a_, spec_a_, values), with_values(points_b_, spec_b_, values)}, options);
    Evaluation e;
    e.a = table_a(pooled.parts[0]);
    e.b = table_b(pooled.parts[1]);
    e.residuals = calibration_residuals(e.a, e.b, published_);
    e.objective = e.residuals.squaredNorm();
    return e;
}

}  // namespace pollsim
