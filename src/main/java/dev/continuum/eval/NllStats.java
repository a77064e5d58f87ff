package dev.continuum.eval;

/**
 * Running sums of a token's negative log-likelihood and its square, in double as llama.cpp keeps them, giving the
 * perplexity {@code exp(mean)} and its uncertainty: the standard error of the mean NLL, {@code sqrt(var / (n-1))},
 * carried through the exponential ({@code d exp(x) = exp(x) dx}).
 */
public final class NllStats {
    private double sum;
    private double sum2;
    private long count;

    public void add(double nll) {
        sum += nll;
        sum2 += nll * nll;
        count++;
    }

    public long count() {
        return count;
    }

    public double meanNll() {
        return sum / count;
    }

    public double perplexity() {
        return Math.exp(meanNll());
    }

    /** Standard error of the mean NLL; NaN when the variance is not positive or there are fewer than 2 tokens. */
    public double meanNllError() {
        double mean = meanNll();
        double variance = sum2 / count - mean * mean;
        return variance > 0 && count > 1 ? Math.sqrt(variance / (count - 1)) : Double.NaN;
    }

    /** The perplexity's uncertainty, as llama.cpp's {@code PPL = x +/- err}. */
    public double perplexityError() {
        return meanNllError() * perplexity();
    }

    double sum() {
        return sum;
    }

    double sum2() {
        return sum2;
    }
}
