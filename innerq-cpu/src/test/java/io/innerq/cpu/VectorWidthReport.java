package io.innerq.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/** Prints, once per test JVM, the vector widths its kernels run at (surefire runs one JVM per width). */
public final class VectorWidthReport implements LauncherSessionListener {

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        System.out.printf("innerq-cpu tests: products at %d bits (%d fp32 lanes, -D%s=%s; this machine's vectors: %d "
                        + "bits), attention at %d bits%n", VectorKernels.F.vectorBitSize(), VectorKernels.L,
                VectorKernels.BITS_PROPERTY, System.getProperty(VectorKernels.BITS_PROPERTY, "unset"),
                FloatVector.SPECIES_PREFERRED.vectorBitSize(), Lanes.F.vectorBitSize());
    }
}
