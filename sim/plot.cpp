#include "sim/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace pollsim {

namespace {

// Colour-blind-safe palette (Okabe and Ito).
const char* const kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"};
constexpr double kLegendWidth = 190;
constexpr double kMarginLeft = 70, kMarginRight = 20, kMarginTop = 48, kMarginBottom = 50;

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

std::string tick_text(double v, double step) {
    char buf[32];
    const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-9 ? 0.0 : v);
    return buf;
}

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '&') out += "&amp;";
        else if (c == '"') out += "&quot;";
        else out += c;
    }
    return out;
}

struct Range {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    void add(double v) {
        if (!std::isfinite(v)) return;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    // A flat or empty range still needs a visible axis.
    void settle(bool include_zero) {
        if (include_zero) add(0);
        if (lo > hi) lo = 0, hi = 1;
        if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
        const double pad = (hi - lo) * 0.05;
        lo -= pad;
        hi += pad;
    }
};

// Maps data to pixels inside the plotting area.
struct Frame {
    double left, top, width, height;
    double x_lo, x_hi, y_lo, y_hi;
    double px(double x) const { return left + (x - x_lo) / (x_hi - x_lo) * width; }
    double py(double y) const { return top + height - (y - y_lo) / (y_hi - y_lo) * height; }
};

std::string series_color(const PlotSeries& s, size_t index) {
    return s.color.empty() ? kPalette[index % (sizeof kPalette / sizeof *kPalette)] : s.color;
}

void draw_axes(std::string& svg, const PlotChart& c, const Frame& f, const std::vector<double>& xt,
               const std::vector<double>& yt) {
    const double x_step = xt.size() > 1 ? xt[1] - xt[0] : 1;
    const double y_step = yt.size() > 1 ? yt[1] - yt[0] : 1;
    for (double y : yt) {
        svg += "<line x1=\"" + num(f.left) + "\" y1=\"" + num(f.py(y)) + "\" x2=\"" + num(f.left + f.width) + "\" y2=\"" +
               num(f.py(y)) + "\" stroke=\"#e5e5e5\"/>\n";
        svg += "<text x=\"" + num(f.left - 6) + "\" y=\"" + num(f.py(y) + 4) + "\" text-anchor=\"end\">" +
               tick_text(y, y_step) + "</text>\n";
    }
    for (size_t i = 0; i < xt.size(); ++i) {
        const double x = xt[i];
        const std::string label = c.x_categories.empty() ? tick_text(x, x_step) : escape(c.x_categories[i]);
        svg += "<line x1=\"" + num(f.px(x)) + "\" y1=\"" + num(f.top) + "\" x2=\"" + num(f.px(x)) + "\" y2=\"" +
               num(f.top + f.height) + "\" stroke=\"#e5e5e5\"/>\n";
        if (c.x_categories.empty())
            svg += "<text x=\"" + num(f.px(x)) + "\" y=\"" + num(f.top + f.height + 16) + "\" text-anchor=\"middle\">" +
                   label + "</text>\n";
        else  // category names are long (bucket ranges): slant them
            svg += "<text transform=\"translate(" + num(f.px(x) + 4) + "," + num(f.top + f.height + 10) +
                   ") rotate(40)\" font-size=\"10\">" + label + "</text>\n";
    }
    if (c.zero_lines) {
        if (f.y_lo < 0 && f.y_hi > 0)
            svg += "<line x1=\"" + num(f.left) + "\" y1=\"" + num(f.py(0)) + "\" x2=\"" + num(f.left + f.width) +
                   "\" y2=\"" + num(f.py(0)) + "\" stroke=\"#888\"/>\n";
        if (f.x_lo < 0 && f.x_hi > 0)
            svg += "<line x1=\"" + num(f.px(0)) + "\" y1=\"" + num(f.top) + "\" x2=\"" + num(f.px(0)) + "\" y2=\"" +
                   num(f.top + f.height) + "\" stroke=\"#888\"/>\n";
    }
    svg += "<rect x=\"" + num(f.left) + "\" y=\"" + num(f.top) + "\" width=\"" + num(f.width) + "\" height=\"" +
           num(f.height) + "\" fill=\"none\" stroke=\"#333\"/>\n";
    const double x_label_y = f.top + f.height + (c.x_categories.empty() ? 38 : 70);
    svg += "<text x=\"" + num(f.left + f.width / 2) + "\" y=\"" + num(x_label_y) + "\" text-anchor=\"middle\">" +
           escape(c.x_label) + "</text>\n";
    svg += "<text transform=\"translate(18," + num(f.top + f.height / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
           escape(c.y_label) + "</text>\n";
}

void draw_series(std::string& svg, const PlotSeries& s, const std::string& color, const Frame& f) {
    if (s.line && s.x.size() > 1) {
        std::string points;
        for (size_t i = 0; i < s.x.size(); ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
            points += (points.empty() ? "" : " ") + num(f.px(s.x[i])) + "," + num(f.py(s.y[i]));
        }
        svg += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.8\"/>\n";
    }
    for (size_t i = 0; i < s.x.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        if (s.markers)
            svg += "<circle cx=\"" + num(f.px(s.x[i])) + "\" cy=\"" + num(f.py(s.y[i])) + "\" r=\"" + num(s.marker_radius) +
                   "\" fill=\"" + (s.hollow ? "white" : color) + "\" stroke=\"" + color + "\" stroke-width=\"1.5\"/>\n";
        if (i < s.labels.size() && !s.labels[i].empty())
            svg += "<text x=\"" + num(f.px(s.x[i]) + s.marker_radius + 3) + "\" y=\"" + num(f.py(s.y[i]) - 4) +
                   "\" font-size=\"10\" fill=\"" + color + "\">" + escape(s.labels[i]) + "</text>\n";
    }
}

void draw_legend(std::string& svg, const PlotChart& c, double x, double y) {
    for (size_t i = 0; i < c.rects.size(); ++i) {
        if (c.rects[i].label.empty()) continue;
        svg += "<rect x=\"" + num(x) + "\" y=\"" + num(y - 9) + "\" width=\"14\" height=\"10\" fill=\"" + c.rects[i].color +
               "\" fill-opacity=\"0.25\" stroke=\"" + c.rects[i].color + "\"/>\n";
        svg += "<text x=\"" + num(x + 20) + "\" y=\"" + num(y) + "\" font-size=\"11\">" + escape(c.rects[i].label) + "</text>\n";
        y += 18;
    }
    for (size_t i = 0; i < c.series.size(); ++i) {
        const PlotSeries& s = c.series[i];
        if (s.name.empty()) continue;
        const std::string color = series_color(s, i);
        if (s.line) svg += "<line x1=\"" + num(x) + "\" y1=\"" + num(y - 4) + "\" x2=\"" + num(x + 14) + "\" y2=\"" +
                           num(y - 4) + "\" stroke=\"" + color + "\" stroke-width=\"1.8\"/>\n";
        if (s.markers)
            svg += "<circle cx=\"" + num(x + 7) + "\" cy=\"" + num(y - 4) + "\" r=\"3.5\" fill=\"" +
                   (s.hollow ? "white" : color) + "\" stroke=\"" + color + "\" stroke-width=\"1.5\"/>\n";
        svg += "<text x=\"" + num(x + 20) + "\" y=\"" + num(y) + "\" font-size=\"11\">" + escape(s.name) + "</text>\n";
        y += 18;
    }
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
    const double raw = (hi - lo) / std::max(1, target);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        step = m * mag;
        if (step >= raw) break;
    }
    // Multiples of the step, not a running sum, so that ticks do not drift.
    std::vector<double> ticks;
    for (auto k = static_cast<long long>(std::ceil(lo / step - 1e-9)); k * step <= hi + step * 1e-9; ++k)
        ticks.push_back(static_cast<double>(k) * step);
    return ticks;
}

std::string render_svg(const PlotChart& c) {
    Range xr, yr;
    for (const auto& s : c.series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) xr.add(s.x[i]), yr.add(s.y[i]);
    for (const auto& r : c.rects) xr.add(r.x0), xr.add(r.x1), yr.add(r.y0), yr.add(r.y1);
    const bool categorical = !c.x_categories.empty();
    if (categorical) xr.lo = -0.5, xr.hi = static_cast<double>(c.x_categories.size()) - 0.5;
    else xr.settle(c.zero_lines);
    yr.settle(c.zero_lines);

    const double bottom = kMarginBottom + (categorical ? 30 : 0);
    Frame f{kMarginLeft, kMarginTop, c.width - kMarginLeft - kMarginRight - kLegendWidth,
            c.height - kMarginTop - bottom, xr.lo, xr.hi, yr.lo, yr.hi};
    std::vector<double> xt;
    if (categorical) for (size_t i = 0; i < c.x_categories.size(); ++i) xt.push_back(static_cast<double>(i));
    else xt = nice_ticks(xr.lo, xr.hi);
    const std::vector<double> yt = nice_ticks(yr.lo, yr.hi);

    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(c.width) + "\" height=\"" +
                      std::to_string(c.height) + "\" viewBox=\"0 0 " + std::to_string(c.width) + " " +
                      std::to_string(c.height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    svg += "<text x=\"" + num(f.left + f.width / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">" +
           escape(c.title) + "</text>\n";
    if (!c.subtitle.empty())
        svg += "<text x=\"" + num(f.left + f.width / 2) + "\" y=\"" + num(kMarginTop - 6) +
               "\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">" + escape(c.subtitle) + "</text>\n";
    draw_axes(svg, c, f, xt, yt);
    for (const auto& r : c.rects) {
        const double x0 = f.px(std::min(r.x0, r.x1)), x1 = f.px(std::max(r.x0, r.x1));
        const double y0 = f.py(std::max(r.y0, r.y1)), y1 = f.py(std::min(r.y0, r.y1));
        svg += "<rect x=\"" + num(x0) + "\" y=\"" + num(y0) + "\" width=\"" + num(std::max(1.0, x1 - x0)) + "\" height=\"" +
               num(std::max(1.0, y1 - y0)) + "\" fill=\"" + r.color + "\" fill-opacity=\"0.2\" stroke=\"" + r.color + "\"/>\n";
    }
    for (size_t i = 0; i < c.series.size(); ++i) draw_series(svg, c.series[i], series_color(c.series[i], i), f);
    draw_legend(svg, c, f.left + f.width + 16, f.top + 12);
    svg += "</svg>\n";
    return svg;
}

}  // namespace pollsim

namespace pollsim {

namespace {
std::string bucket_label(int64_t lo_ns) {
    if (lo_ns >= 1024) return std::to_string(lo_ns / 1024) + "k";
    return std::to_string(lo_ns);
}
}  // namespace

PlotChart poll_histogram_chart(const std::string& title,
                               const std::vector<std::pair<std::string, const nlohmann::ordered_json*>>& reports) {
    // Bucket i is [2^(i-1), 2^i) for i >= 1 and 0 for i = 0 (DESIGN §7).
    size_t len = 0;
    for (const auto& [name, r] : reports) len = std::max(len, (*r)["metrics"]["poll"]["histogram"].size());
    std::vector<std::vector<double>> share(reports.size(), std::vector<double>(len, 0.0));
    std::vector<bool> used(len, false);
    for (size_t s = 0; s < reports.size(); ++s) {
        const auto& hist = (*reports[s].second)["metrics"]["poll"]["histogram"];
        double total = 0;
        for (const auto& b : hist) total += b["iterations"].get<double>();
        for (size_t i = 0; i < hist.size(); ++i) {
            share[s][i] = total > 0 ? 100.0 * hist[i]["iterations"].get<double>() / total : 0;
            if (share[s][i] > 0) used[i] = true;
        }
    }
    // Keep bucket 0 and the span from the first to the last bucket in use.
    size_t first = len, last = 0;
    for (size_t i = 1; i < len; ++i)
        if (used[i]) first = std::min(first, i), last = i;
    std::vector<size_t> keep = {0};
    for (size_t i = first; i <= last && i < len; ++i) keep.push_back(i);

    PlotChart c;
    c.title = title;
    c.x_label = "poll time T chosen at an iteration (ns, power-of-two bucket lower bound; k = 1024)";
    c.y_label = "iterations (%)";
    for (size_t k = 0; k < keep.size(); ++k) {
        const int64_t lo = keep[k] == 0 ? 0 : (int64_t{1} << (keep[k] - 1));
        c.x_categories.push_back(bucket_label(lo));
    }
    for (size_t s = 0; s < reports.size(); ++s) {
        PlotSeries ser;
        ser.name = reports[s].first;
        for (size_t k = 0; k < keep.size(); ++k) {
            ser.x.push_back(static_cast<double>(k));
            ser.y.push_back(share[s][keep[k]]);
        }
        ser.marker_radius = 3;
        c.series.push_back(std::move(ser));
    }
    return c;
}

}  // namespace pollsim
