package io.innerq.cpu;

import static jdk.incubator.vector.VectorOperators.EQ;

import io.innerq.tensor.GgmlType;
import io.innerq.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.lang.ref.WeakReference;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Whether an F16 tensor holds only finite halves, which {@link VectorKernels#dotF16} converts in registers. Each
 * tensor is scanned once, at its first product (a pass at memory speed), and the answer kept while the tensor lives:
 * in an open-addressed table by identity, read without locks or allocation, copied on each insertion.
 */
final class Halves {

    private static final VectorSpecies<Byte> BYTES = VectorKernels.F_BYTES;
    private static final short EXPONENT = 0x7C00; // all ones: infinity or NaN
    private static final ValueLayout.OfShort I16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private record Entry(WeakReference<Tensor> tensor, boolean finite) {
    }

    private static volatile Entry[] table = new Entry[64];

    private Halves() {
    }

    /** True when every element of the F16 tensor {@code w} is finite. */
    static boolean allFinite(Tensor w) {
        if (w.type() != GgmlType.F16) {
            throw new IllegalArgumentException("tensor '%s' is %s, not F16".formatted(w.name(), w.type()));
        }
        Entry[] t = table;
        int mask = t.length - 1;
        for (int i = System.identityHashCode(w) & mask; t[i] != null; i = (i + 1) & mask) {
            if (t[i].tensor.get() == w) {
                return t[i].finite;
            }
        }
        boolean finite = scan(w.data());
        remember(w, finite);
        return finite;
    }

    /** A new table of the live entries and this one, at most a quarter full. */
    private static synchronized void remember(Tensor w, boolean finite) {
        Entry[] old = table;
        int live = 1;
        for (Entry e : old) {
            live += e != null && e.tensor.get() != null ? 1 : 0;
        }
        Entry[] t = new Entry[Math.max(64, Integer.highestOneBit(live) * 8)];
        for (Entry e : old) {
            Tensor tensor = e == null ? null : e.tensor.get();
            if (tensor != null && tensor != w) {
                put(t, tensor, e);
            }
        }
        put(t, w, new Entry(new WeakReference<>(w), finite));
        table = t;
    }

    private static void put(Entry[] t, Tensor tensor, Entry e) {
        int mask = t.length - 1;
        int i = System.identityHashCode(tensor) & mask;
        while (t[i] != null) {
            i = (i + 1) & mask;
        }
        t[i] = e;
    }

    static boolean scan(MemorySegment data) {
        long size = data.byteSize();
        long at = 0;
        for (; at + BYTES.length() <= size; at += BYTES.length()) {
            ShortVector h = ByteVector.fromMemorySegment(BYTES, data, at, ByteOrder.LITTLE_ENDIAN).reinterpretAsShorts();
            if (h.and(EXPONENT).compare(EQ, EXPONENT).anyTrue()) {
                return false;
            }
        }
        for (; at + 2 <= size; at += 2) {
            if ((data.get(I16, at) & EXPONENT) == EXPONENT) {
                return false;
            }
        }
        return true;
    }
}
