// The standard normal sampler: a 256-layer ziggurat (Marsaglia and Tsang
// 2000, with Doornik's 2005 fix of taking the layer and the coordinate from
// independent bits). About 99 % of draws cost one 64-bit random number, a
// table look-up and a multiply, where Box-Muller paid a log, a sqrt and a cos
// per value.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>

namespace pollsim {

class NormalZiggurat {
public:
    static constexpr int kLayers = 256;

    // Draws with `next` returning uniform 64-bit integers and `uniform`
    // uniform doubles in (0, 1).
    template <class Next, class Uniform>
    double sample(Next next, Uniform uniform) const {
        for (;;) {
            const uint64_t bits = next();
            const int i = static_cast<int>(bits & (kLayers - 1));
            // 53 bits independent of the layer's 8, as a double in (-1, 1).
            const double u = (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-52 - 1.0;
            const Layer& layer = layers_[i];
            const double x = u * layer.x;
            if (std::fabs(u) < layer.ratio) return x;  // inside the layer's rectangle
            if (i == 0) return tail(uniform, u < 0);
            // The wedge between the rectangle and the curve.
            const double x0 = layer.x, x1 = layers_[i + 1].x;
            const double f0 = std::exp(-0.5 * (x0 * x0 - x * x));
            const double f1 = std::exp(-0.5 * (x1 * x1 - x * x));
            if (f1 + uniform() * (f0 - f1) < 1.0) return x;
        }
    }

    static const NormalZiggurat& instance() {
        static const NormalZiggurat z;
        return z;
    }

private:
    static constexpr double kR = 3.6541528853610088;      // start of the tail
    static constexpr double kArea = 0.00492867323399;     // of each layer

    NormalZiggurat() {
        double f = std::exp(-0.5 * kR * kR);
        layers_[0].x = kArea / f;  // the base layer's rectangle has the tail's area too
        layers_[1].x = kR;
        layers_[kLayers].x = 0;
        for (int i = 2; i < kLayers; ++i) {
            layers_[i].x = std::sqrt(-2.0 * std::log(kArea / layers_[i - 1].x + f));
            f = std::exp(-0.5 * layers_[i].x * layers_[i].x);
        }
        for (int i = 0; i < kLayers; ++i) layers_[i].ratio = layers_[i + 1].x / layers_[i].x;
    }

    // Marsaglia's tail beyond kR.
    template <class Uniform>
    static double tail(Uniform uniform, bool negative) {
        double x, y;
        do {
            x = -std::log(uniform()) / kR;
            y = -std::log(uniform());
        } while (y + y < x * x);
        return negative ? -(kR + x) : kR + x;
    }

    // A layer's edge and its ratio to the next one's side by side: the fast
    // path reads both, from one cache line.
    struct Layer {
        double x = 0;
        double ratio = 0;  // x of the next layer / x (unused for the last)
    };
    std::array<Layer, kLayers + 1> layers_{};
};

}  // namespace pollsim
