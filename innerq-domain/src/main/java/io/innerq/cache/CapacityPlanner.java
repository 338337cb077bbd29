package io.innerq.cache;

import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.BitPacking;
import io.innerq.quant.QuantMode;

/**
 * What a KV cache of one mode costs for one model geometry: bytes for a sequence length, bits per element, and how
 * many tokens fit in a budget. Figures are for the layouts of {@link ReferenceKvCaches} and count what is stored:
 * fp32 windows, codes (packed words, padding included), scales, zero points and normalization factors.
 *
 * <p>A length n means the state once n tokens are stored and the prompt has ended ({@code KvCache.endPrefill}):
 * for every mode but KIVI the same after a prompt of n tokens or after decoding up to n. KIVI, which flushes lazily,
 * holds up to R more keys and one more value in fp32 when decoding than right after a prompt of the same length;
 * the figures here are the decoding state (n - 1 tokens flushed as in decode, then token n appended), which is the
 * larger. While a prompt runs, quantized modes hold it whole in fp32 ({@link #bytesDuringPrefill}).
 *
 * <p>The zero points of hybrid groups depend on the data: {@link #bytesInUse} leaves them out,
 * {@link #maxBytesInUse} counts one for every hybrid group.
 */
public record CapacityPlanner(CacheGeometry geometry, KvMode mode) {

    public CapacityPlanner {
        if (geometry == null || mode == null) {
            throw new IllegalArgumentException("a capacity plan needs a geometry and a mode");
        }
        mode.bitsPerElement(geometry.headDim()); // rejects a mode that cannot serve this head_dim
    }

    /** Bytes stored for {@code tokens} tokens, without the zero points of hybrid groups. */
    public long bytesInUse(int tokens) {
        return bytes(tokens, false);
    }

    /** Bytes stored for {@code tokens} tokens, counting a zero point for every hybrid group (an upper bound). */
    public long maxBytesInUse(int tokens) {
        return bytes(tokens, true);
    }

    /** Peak bytes while a prompt of {@code promptLength} tokens runs: the prompt in fp32 for modes with exact prefill. */
    public long bytesDuringPrefill(int promptLength) {
        return switch (mode) {
            case KvMode.Fp32 m -> bytesInUse(promptLength);
            case KvMode.Fp16 m -> bytesInUse(promptLength);
            case KvMode.Q8 m -> bytesInUse(promptLength);
            case KvMode.Kivi m -> fp32(promptLength);
            case InnerqConfig c -> fp32(promptLength);
        };
    }

    /** Average bits per stored element over {@code tokens} tokens (keys and values), windows included. */
    public double bitsPerElement(int tokens) {
        if (tokens <= 0) {
            throw new IllegalArgumentException("bits per element need at least one token, got " + tokens);
        }
        return 8.0 * bytesInUse(tokens) / (2.0 * geometry.layers() * geometry.kvDim() * tokens);
    }

    /**
     * The most tokens a sequence can reach while the cache never holds more than {@code budgetBytes}
     * ({@link #maxBytesInUse} at every length on the way, after prefill). 0 when not even one token fits.
     */
    public int tokensThatFit(long budgetBytes) {
        int lo = 0;
        int hi = 1;
        while (hi < Integer.MAX_VALUE / 2 && peak(hi) <= budgetBytes) {
            lo = hi;
            hi *= 2;
        }
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (peak(mid) <= budgetBytes) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The largest {@link #maxBytesInUse} at any length up to {@code tokens} (flushes make it saw-toothed). */
    private long peak(int tokens) {
        int period = switch (mode) {
            case KvMode.Fp32 m -> 1;
            case KvMode.Fp16 m -> 1;
            case KvMode.Q8 m -> 1;
            case KvMode.Kivi m -> KvMode.Kivi.RESIDUAL;
            case InnerqConfig c -> c.groupSize();
        };
        long max = 0;
        for (int n = Math.max(1, tokens - period); n <= tokens; n++) {
            max = Math.max(max, maxBytesInUse(n));
        }
        return max;
    }

    /**
     * Bytes {@link ReferenceKvCaches} allocates up front for a capacity (storage only, excluding per-cache scratch of
     * O(capacity) floats and the prefill buffer, which grows with the prompt and is dropped at its end).
     */
    public long bytesReserved(int capacity) {
        int layers = geometry.layers();
        int kvHeads = geometry.kvHeads();
        int hd = geometry.headDim();
        long kvDim = geometry.kvDim();
        return switch (mode) {
            case KvMode.Fp32 m -> 2L * layers * capacity * kvDim * 4;
            case KvMode.Fp16 m -> 2L * layers * capacity * kvDim * 2;
            case KvMode.Q8 m -> 2L * layers * capacity * (kvDim / KvMode.Q8.group(hd)) * (KvMode.Q8.group(hd) + 2);
            case KvMode.Kivi m -> {
                int r = KvMode.Kivi.RESIDUAL;
                int gv = KvMode.Kivi.valueGroup(hd);
                long rings = (long) kvHeads * (Math.min(r, capacity) + Math.min(r + 1, capacity)) * hd * 4;
                long keyGroups = (long) kvHeads * (capacity / KvMode.Kivi.GROUP) * hd;
                long valueGroups = (long) kvHeads * Math.max(0, capacity - r) * (hd / gv);
                yield layers * (rings
                        + keyGroups * (BitPacking.words(m.bits(), KvMode.Kivi.GROUP) * 4L + 4)
                        + valueGroups * (BitPacking.words(m.bits(), gv) * 4L + 4));
            }
            case InnerqConfig c -> {
                int sinkSlots = Math.min(c.sink(), capacity);
                long ringSlots = Math.clamp((long) c.recent() + c.groupSize(), 0, Math.max(0, capacity - c.sink()));
                long maxKeyTokens = Math.max(0, capacity - c.sink() - c.recent());
                long keyGroups = kvHeads * maxKeyTokens * (hd / c.keyGroupSize(hd));
                long valueGroups = (long) kvHeads * hd * (maxKeyTokens / c.groupSize());
                yield layers * (2L * kvHeads * (sinkSlots + ringSlots) * hd * 4
                        + keyGroups * (c.keyWords(hd) * 4L + 2 + (c.keyMode() == QuantMode.SYMMETRIC ? 0 : 2))
                        + valueGroups * (c.valueWords() * 4L + 2 + (c.valueMode() == QuantMode.SYMMETRIC ? 0 : 2))
                        + (c.keyNormalization() ? kvDim * 4 : 0));
            }
        };
    }

    private long fp32(int tokens) {
        return 2L * geometry.layers() * tokens * geometry.kvDim() * 4;
    }

    private long bytes(int tokens, boolean allHybridZeros) {
        if (tokens < 0) {
            throw new IllegalArgumentException("a token count cannot be negative, got " + tokens);
        }
        int layers = geometry.layers();
        int kvHeads = geometry.kvHeads();
        int hd = geometry.headDim();
        long kvDim = geometry.kvDim();
        long n = tokens;
        return switch (mode) {
            case KvMode.Fp32 m -> fp32(tokens);
            case KvMode.Fp16 m -> 2L * layers * n * kvDim * 2;
            case KvMode.Q8 m -> 2L * layers * n * (kvDim / KvMode.Q8.group(hd)) * (KvMode.Q8.group(hd) + 2);
            case KvMode.Kivi m -> {
                int r = KvMode.Kivi.RESIDUAL;
                int gv = KvMode.Kivi.valueGroup(hd);
                // decoding state: keys of (n - 1) - (n - 1) % R tokens quantized, values of all but R + 1
                long keys = n == 0 ? 0 : (n - 1) - (n - 1) % r;
                long values = Math.max(0, n - r - 1);
                long fp32 = (n - keys) + (n - values);
                yield layers * (fp32 * kvDim * 4
                        + kvHeads * (keys / KvMode.Kivi.GROUP) * hd * (BitPacking.words(m.bits(), KvMode.Kivi.GROUP) * 4L + 4)
                        + kvHeads * values * (hd / gv) * (BitPacking.words(m.bits(), gv) * 4L + 4));
            }
            case InnerqConfig c -> {
                int s = c.sink();
                int r = c.recent();
                int g = c.groupSize();
                long sinkTokens = Math.min(n, s);
                long rest = n - sinkTokens;
                boolean started = rest - r >= g;
                long values = Math.max(0, rest - r) / g * g;
                long keys = started ? rest - r : 0;
                long keyGroups = kvHeads * keys * (hd / c.keyGroupSize(hd));
                long valueGroups = kvHeads * hd * (values / g);
                long fp32 = 2 * sinkTokens + (rest - keys) + (rest - values);
                yield layers * (fp32 * kvDim * 4
                        + keyGroups * (c.keyWords(hd) * 4L + 2 + zeroBytes(c.keyMode(), allHybridZeros))
                        + valueGroups * (c.valueWords() * 4L + 2 + zeroBytes(c.valueMode(), allHybridZeros))
                        + (started && c.keyNormalization() ? kvDim * 4 : 0));
            }
        };
    }

    private static int zeroBytes(QuantMode mode, boolean allHybridZeros) {
        return switch (mode) {
            case SYMMETRIC -> 0;
            case ASYMMETRIC -> 2;
            case HYBRID -> allHybridZeros ? 2 : 0;
        };
    }
}
