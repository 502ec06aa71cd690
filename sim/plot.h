// Charts as SVG text written by the program itself.
//
// Why not gnuplot: the committed plots must match a fresh `pollsim tables`
// byte for byte, and must be produced in CI and on machines without gnuplot.
// A few hundred lines of SVG give line/marker charts with categorical or
// numeric axes, which is all the tables need, with output that depends only
// on the numbers (fixed formatting, no fonts measured, no timestamps).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace pollsim {

struct PlotSeries {
    std::string name;                 // legend text ("" keeps it out of the legend)
    std::vector<double> x, y;
    std::vector<std::string> labels;  // optional text beside each point
    bool line = true;
    bool markers = true;
    bool hollow = false;              // open markers (published values)
    double marker_radius = 4;
    std::string color;                // "" picks from the palette by index
};

// An axis-aligned rectangle in data coordinates (ranges, e.g. table B's).
struct PlotRect {
    double x0, x1, y0, y1;
    std::string color;
    std::string label;
};

struct PlotChart {
    std::string title, subtitle, x_label, y_label;
    std::vector<PlotSeries> series;
    std::vector<PlotRect> rects;
    // Non-empty: x values are indices 0..n-1 into these tick labels.
    std::vector<std::string> x_categories;
    bool zero_lines = false;  // draw x = 0 and y = 0
    int width = 760, height = 480;
};

std::string render_svg(const PlotChart& chart);

// "Nice" tick values covering [lo, hi] (1, 2 or 5 times a power of ten).
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

}  // namespace pollsim

// ---- charts of run reports (the --json document) ----

namespace pollsim {

// poll.ns histogram of each named report, as % of iterations per
// power-of-two bucket; buckets empty in every report are left out.
PlotChart poll_histogram_chart(const std::string& title,
                               const std::vector<std::pair<std::string, const nlohmann::ordered_json*>>& reports);

}  // namespace pollsim
