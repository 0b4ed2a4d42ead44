;; Fused Adam direction for lrfree's wasm backend (compiled by scripts/build-wasm.ts into adam.wasm.ts).
;; One pass over the gradient instead of TF.js's 13 kernels, with the same float32 operations in the same
;; order as the op path of src/directions/adam.ts, so both give bit-identical results:
;;   m = m0*b1 + g*(1-b1);  v = v0*b2 + (g*g)*(1-b2);  den = sqrt(v/c2) + eps;  d = (m/c1)/den;  s = g/den
;; Pointers are byte offsets into TF.js's own heap (the memory is imported), n counts float32 elements.
(module
  (import "env" "memory" (memory 0))
  (func (export "adam")
    (param $g i32) (param $m0 i32) (param $v0 i32)
    (param $mOut i32) (param $vOut i32) (param $dOut i32) (param $sOut i32) (param $withS i32)
    (param $n i32)
    (param $b1 f32) (param $ob1 f32) (param $b2 f32) (param $ob2 f32)
    (param $c1 f32) (param $c2 f32) (param $eps f32)
    (local $i i32) (local $vecEnd i32) (local $end i32)
    (local $B1 v128) (local $OB1 v128) (local $B2 v128) (local $OB2 v128)
    (local $C1 v128) (local $C2 v128) (local $EPS v128)
    (local $gv v128) (local $mv v128) (local $vv v128) (local $den v128)
    (local $gs f32) (local $ms f32) (local $vs f32) (local $dens f32)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $OB1 (f32x4.splat (local.get $ob1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $OB2 (f32x4.splat (local.get $ob2)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $vecEnd (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    ;; Four lanes at a time.
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        (local.set $mv (f32x4.add
          (f32x4.mul (v128.load align=4 (i32.add (local.get $m0) (local.get $i))) (local.get $B1))
          (f32x4.mul (local.get $gv) (local.get $OB1))))
        (local.set $vv (f32x4.add
          (f32x4.mul (v128.load align=4 (i32.add (local.get $v0) (local.get $i))) (local.get $B2))
          (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $OB2))))
        (v128.store align=4 (i32.add (local.get $mOut) (local.get $i)) (local.get $mv))
        (v128.store align=4 (i32.add (local.get $vOut) (local.get $i)) (local.get $vv))
        (local.set $den (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $C2))) (local.get $EPS)))
        (v128.store align=4 (i32.add (local.get $dOut) (local.get $i))
          (f32x4.div (f32x4.div (local.get $mv) (local.get $C1)) (local.get $den)))
        (if (local.get $withS)
          (then (v128.store align=4 (i32.add (local.get $sOut) (local.get $i))
            (f32x4.div (local.get $gv) (local.get $den)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    ;; The last n mod 4 elements, one at a time, with the same operations.
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $ms (f32.add
          (f32.mul (f32.load (i32.add (local.get $m0) (local.get $i))) (local.get $b1))
          (f32.mul (local.get $gs) (local.get $ob1))))
        (local.set $vs (f32.add
          (f32.mul (f32.load (i32.add (local.get $v0) (local.get $i))) (local.get $b2))
          (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $ob2))))
        (f32.store (i32.add (local.get $mOut) (local.get $i)) (local.get $ms))
        (f32.store (i32.add (local.get $vOut) (local.get $i)) (local.get $vs))
        (local.set $dens (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))
        (f32.store (i32.add (local.get $dOut) (local.get $i))
          (f32.div (f32.div (local.get $ms) (local.get $c1)) (local.get $dens)))
        (if (local.get $withS)
          (then (f32.store (i32.add (local.get $sOut) (local.get $i))
            (f32.div (local.get $gs) (local.get $dens)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

  ;; out[r, c] = min(max(out[r, c] + bias, lo), hi) in place, over `rows` rows of `cols` floats.
  ;; biasMode: 0 no bias, 1 one bias per column, 2 one bias for all. NaN stays NaN (as in TF.js's Relu).
  (func (export "bias_clamp")
    (param $out i32) (param $bias i32) (param $rows i32) (param $cols i32) (param $biasMode i32)
    (param $lo f32) (param $hi f32)
    (local $r i32) (local $c i32) (local $row i32) (local $vecCols i32)
    (local $LO v128) (local $HI v128) (local $B v128) (local $v v128) (local $x f32) (local $b f32)
    (local.set $LO (f32x4.splat (local.get $lo)))
    (local.set $HI (f32x4.splat (local.get $hi)))
    (if (i32.eq (local.get $biasMode) (i32.const 2))
      (then (local.set $b (f32.load (local.get $bias)))))
    (local.set $B (f32x4.splat (local.get $b)))
    (local.set $vecCols (i32.and (local.get $cols) (i32.const -4)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $c (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $c) (local.get $vecCols)))
            (local.set $v (v128.load align=4 (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))))
            (if (i32.eq (local.get $biasMode) (i32.const 1))
              (then (local.set $v (f32x4.add (local.get $v)
                (v128.load align=4 (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2))))))))
            (if (i32.eq (local.get $biasMode) (i32.const 2))
              (then (local.set $v (f32x4.add (local.get $v) (local.get $B)))))
            (v128.store align=4 (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))
              (f32x4.min (f32x4.max (local.get $v) (local.get $LO)) (local.get $HI)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $x (f32.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))))
            (if (i32.eq (local.get $biasMode) (i32.const 1))
              (then (local.set $x (f32.add (local.get $x)
                (f32.load (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2))))))))
            (if (i32.eq (local.get $biasMode) (i32.const 2))
              (then (local.set $x (f32.add (local.get $x) (local.get $b)))))
            (f32.store (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))
              (f32.min (f32.max (local.get $x) (local.get $lo)) (local.get $hi)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; One matrix product C[m, n] = A[m, k] @ B[k, n] (a slice of a batched BatchMatMul). B and C are
  ;; row-major and contiguous; A is read through byte strides ($sai between rows, $sak along k), so a
  ;; transposed A costs nothing. Each C element is one float32 sum over k in order (c += a * b), like the
  ;; cpu kernel within a block. Blocks of 4 rows x 8 columns keep 8 accumulators in registers and load each
  ;; B vector once per 4 rows; the edges use 1 x 4 vectors, then scalars.
  (func $block4x8
    (param $a i32) (param $b i32) (param $c i32) (param $k i32) (param $nb i32) (param $sai i32) (param $sak i32)
    (local $s2 i32) (local $s3 i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local.set $s2 (i32.shl (local.get $sai) (i32.const 1)))
    (local.set $s3 (i32.add (local.get $s2) (local.get $sai)))
    (block $done
      (loop $kLoop
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load align=4 (local.get $b)))
        (local.set $b1 (v128.load offset=16 align=4 (local.get $b)))
        (local.set $x (f32x4.splat (f32.load (local.get $a))))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (f32x4.splat (f32.load (i32.add (local.get $a) (local.get $sai)))))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (f32x4.splat (f32.load (i32.add (local.get $a) (local.get $s2)))))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (f32x4.splat (f32.load (i32.add (local.get $a) (local.get $s3)))))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (local.get $sak)))
        (local.set $b (i32.add (local.get $b) (local.get $nb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $kLoop)))
    (v128.store align=4 (local.get $c) (local.get $c00))
    (v128.store offset=16 align=4 (local.get $c) (local.get $c01))
    (local.set $c (i32.add (local.get $c) (local.get $nb)))
    (v128.store align=4 (local.get $c) (local.get $c10))
    (v128.store offset=16 align=4 (local.get $c) (local.get $c11))
    (local.set $c (i32.add (local.get $c) (local.get $nb)))
    (v128.store align=4 (local.get $c) (local.get $c20))
    (v128.store offset=16 align=4 (local.get $c) (local.get $c21))
    (local.set $c (i32.add (local.get $c) (local.get $nb)))
    (v128.store align=4 (local.get $c) (local.get $c30))
    (v128.store offset=16 align=4 (local.get $c) (local.get $c31)))

  ;; C[i, j..j+3] for one row i: $a points at A[i, 0], $b at B[0, j], $c at C[i, j].
  (func $block1x4 (param $a i32) (param $b i32) (param $c i32) (param $k i32) (param $nb i32) (param $sak i32)
    (local $acc v128)
    (block $done
      (loop $kLoop
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $acc (f32x4.add (local.get $acc)
          (f32x4.mul (f32x4.splat (f32.load (local.get $a))) (v128.load align=4 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (local.get $sak)))
        (local.set $b (i32.add (local.get $b) (local.get $nb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $kLoop)))
    (v128.store align=4 (local.get $c) (local.get $acc)))

  ;; C[i, j] alone (the last n mod 4 columns).
  (func $dot1 (param $a i32) (param $b i32) (param $c i32) (param $k i32) (param $nb i32) (param $sak i32)
    (local $acc f32)
    (block $done
      (loop $kLoop
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $acc (f32.add (local.get $acc) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (local.get $sak)))
        (local.set $b (i32.add (local.get $b) (local.get $nb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $kLoop)))
    (f32.store (local.get $c) (local.get $acc)))

  (func (export "matmul")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32)
    (param $sai i32) (param $sak i32)
    (local $nb i32) (local $m4 i32) (local $n8 i32) (local $n4 i32)
    (local $i i32) (local $j i32) (local $rowA i32) (local $rowC i32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
    (local.set $n8 (i32.and (local.get $n) (i32.const -8)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    ;; Rows [0, m4) x columns [0, n8) in 4 x 8 blocks.
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $m4)))
        (local.set $rowA (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sai))))
        (local.set $rowC (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $n8)))
            (call $block4x8 (local.get $rowA)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $rowC) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $k) (local.get $nb) (local.get $sai) (local.get $sak))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows)))
    ;; Everything else, row by row: columns from n8 (rows < m4) or 0 (the last m mod 4 rows) in 1 x 4
    ;; vectors up to n4, then single columns.
    (local.set $i (i32.const 0))
    (block $edgeDone
      (loop $edge
        (br_if $edgeDone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $rowA (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sai))))
        (local.set $rowC (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))))
        (local.set $j (select (local.get $n8) (i32.const 0) (i32.lt_u (local.get $i) (local.get $m4))))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $j) (local.get $n4)))
            (call $block1x4 (local.get $rowA)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $rowC) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $k) (local.get $nb) (local.get $sak))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $n)))
            (call $dot1 (local.get $rowA)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $rowC) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $k) (local.get $nb) (local.get $sak))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tail)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $edge))))

  ;; out[j] = x[0, j] + x[1, j] + ... + x[rows-1, j] over a row-major [rows, cols] x: the reduction of a
  ;; leading axis (bias and layer-norm gradients sum over the batch). Summed in float32 from 0, row by row
  ;; in order, as stock wasm's Sum accumulates (the cpu kernel accumulates in float64).
  (func (export "col_sum") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $j i32) (local $r i32) (local $row i32) (local $end i32) (local $vecEnd i32)
    (local.set $end (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $vecEnd (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2)))
    (block $zeroDone
      (loop $zero
        (br_if $zeroDone (i32.ge_u (local.get $j) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $j)) (f32.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $zero)))
    (local.set $row (local.get $x))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $j) (local.get $vecEnd)))
            (v128.store align=4 (i32.add (local.get $out) (local.get $j))
              (f32x4.add (v128.load align=4 (i32.add (local.get $out) (local.get $j)))
                (v128.load align=4 (i32.add (local.get $row) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $end)))
            (f32.store (i32.add (local.get $out) (local.get $j))
              (f32.add (f32.load (i32.add (local.get $out) (local.get $j)))
                (f32.load (i32.add (local.get $row) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $tail)))
        (local.set $row (i32.add (local.get $row) (local.get $end)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; auto()'s direction and Schedule-Free step (src/backend/wasm/fusedAuto.ts), in three passes because two
  ;; per-tensor reductions sit in the chain. Element-wise, the same float32 operations in the same order as
  ;; the TF.js-ops path of src/optimizers/auto.ts; the two sums accumulate in four float32 lanes (TF.js sums
  ;; in another order, so those two scalars, and what depends on them, agree to float32 round-off).

  ;; Pass 1: v = v0*b2 + (g*g)*ob2 (stored); returns the sum of v/c2 (v-hat), in float64.
  (func (export "auto_moments")
    (param $g i32) (param $v0 i32) (param $vOut i32) (param $n i32)
    (param $b2 f32) (param $ob2 f32) (param $c2 f32)
    (result f64)
    (local $i i32) (local $vecEnd i32) (local $end i32)
    (local $B2 v128) (local $OB2 v128) (local $C2 v128) (local $gv v128) (local $vv v128)
    (local $acc0 v128) (local $acc1 v128) (local $q v128)
    (local $gs f32) (local $vs f32) (local $tail f64)
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $OB2 (f32x4.splat (local.get $ob2)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $vecEnd (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        (local.set $vv (f32x4.add
          (f32x4.mul (v128.load align=4 (i32.add (local.get $v0) (local.get $i))) (local.get $B2))
          (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $OB2))))
        (v128.store align=4 (i32.add (local.get $vOut) (local.get $i)) (local.get $vv))
        (local.set $q (f32x4.div (local.get $vv) (local.get $C2)))
        (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.promote_low_f32x4 (local.get $q))))
        (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q) (local.get $q)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $tailLoop
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $vs (f32.add
          (f32.mul (f32.load (i32.add (local.get $v0) (local.get $i))) (local.get $b2))
          (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $ob2))))
        (f32.store (i32.add (local.get $vOut) (local.get $i)) (local.get $vs))
        (local.set $tail (f64.add (local.get $tail) (f64.promote_f32 (f32.div (local.get $vs) (local.get $c2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tailLoop)))
    (f64.add
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0)))
        (f64.add (f64x2.extract_lane 0 (local.get $acc1)) (f64x2.extract_lane 1 (local.get $acc1))))
      (local.get $tail)))

  ;; Pass 2: u = g/(sqrt(v/c2) + eps) (stored); returns the sum of u*u, in float64.
  (func (export "auto_direction")
    (param $g i32) (param $v i32) (param $uOut i32) (param $n i32) (param $c2 f32) (param $eps f32)
    (result f64)
    (local $i i32) (local $vecEnd i32) (local $end i32)
    (local $C2 v128) (local $EPS v128) (local $uv v128) (local $acc0 v128) (local $acc1 v128) (local $q v128)
    (local $us f32) (local $tail f64)
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $vecEnd (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (local.set $uv (f32x4.div
          (v128.load align=4 (i32.add (local.get $g) (local.get $i)))
          (f32x4.add
            (f32x4.sqrt (f32x4.div (v128.load align=4 (i32.add (local.get $v) (local.get $i))) (local.get $C2)))
            (local.get $EPS))))
        (v128.store align=4 (i32.add (local.get $uOut) (local.get $i)) (local.get $uv))
        (local.set $q (f32x4.mul (local.get $uv) (local.get $uv)))
        (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.promote_low_f32x4 (local.get $q))))
        (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q) (local.get $q)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $tailLoop
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $us (f32.div
          (f32.load (i32.add (local.get $g) (local.get $i)))
          (f32.add
            (f32.sqrt (f32.div (f32.load (i32.add (local.get $v) (local.get $i))) (local.get $c2)))
            (local.get $eps))))
        (f32.store (i32.add (local.get $uOut) (local.get $i)) (local.get $us))
        (local.set $tail (f64.add (local.get $tail) (f64.promote_f32 (f32.mul (local.get $us) (local.get $us)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tailLoop)))
    (f64.add
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0)))
        (f64.add (f64x2.extract_lane 0 (local.get $acc1)) (f64x2.extract_lane 1 (local.get $acc1))))
      (local.get $tail)))

  ;; One Schedule-Free element: u <- u/rms (flag 1), z = z0 [- y*etaWd (flag 4)] [- u*eta
  ;; (flag 2)], x = x0*oc + z*c (flag 8; else x0), yNew = x*beta + z*obeta (flag 16; else z), d = y - yNew,
  ;; yc = y - d (the point the core commits: y + (-1)*d, the same bits). Stores u (flag 1), z, x, d, yc.
  ;; (pass 3 below does the same four lanes at a time).
  (func $sfOne
    (param $at i32) (param $u i32) (param $z0 i32) (param $x0 i32) (param $y i32)
    (param $zOut i32) (param $xOut i32) (param $dOut i32) (param $ycOut i32) (param $flags i32)
    (param $rms f32) (param $eta f32) (param $ewd f32) (param $c f32) (param $oc f32)
    (param $beta f32) (param $obeta f32)
    (local $us f32) (local $zs f32) (local $xs f32) (local $ys f32) (local $ds f32)
    (local.set $us (f32.load (i32.add (local.get $u) (local.get $at))))
    (local.set $ys (f32.load (i32.add (local.get $y) (local.get $at))))
    (if (i32.and (local.get $flags) (i32.const 1))
      (then
        (local.set $us (f32.div (local.get $us) (local.get $rms)))
        (f32.store (i32.add (local.get $u) (local.get $at)) (local.get $us))))
    (local.set $zs (f32.load (i32.add (local.get $z0) (local.get $at))))
    (if (i32.and (local.get $flags) (i32.const 4))
      (then (local.set $zs (f32.sub (local.get $zs) (f32.mul (local.get $ys) (local.get $ewd))))))
    (if (i32.and (local.get $flags) (i32.const 2))
      (then (local.set $zs (f32.sub (local.get $zs) (f32.mul (local.get $us) (local.get $eta))))))
    (local.set $xs (f32.load (i32.add (local.get $x0) (local.get $at))))
    (if (i32.and (local.get $flags) (i32.const 8))
      (then (local.set $xs (f32.add
        (f32.mul (local.get $xs) (local.get $oc)) (f32.mul (local.get $zs) (local.get $c))))))
    (local.set $ds (f32.sub (local.get $ys)
      (if (result f32) (i32.and (local.get $flags) (i32.const 16))
        (then (f32.add
          (f32.mul (local.get $xs) (local.get $beta)) (f32.mul (local.get $zs) (local.get $obeta))))
        (else (local.get $zs)))))
    (f32.store (i32.add (local.get $zOut) (local.get $at)) (local.get $zs))
    (f32.store (i32.add (local.get $xOut) (local.get $at)) (local.get $xs))
    (f32.store (i32.add (local.get $dOut) (local.get $at)) (local.get $ds))
    (f32.store (i32.add (local.get $ycOut) (local.get $at)) (f32.sub (local.get $ys) (local.get $ds))))

  ;; Pass 3 over n elements (u is scaled in place when flag 1 is set).
  (func (export "auto_sf")
    (param $u i32) (param $z0 i32) (param $x0 i32) (param $y i32)
    (param $zOut i32) (param $xOut i32) (param $dOut i32) (param $ycOut i32) (param $n i32) (param $flags i32)
    (param $rms f32) (param $eta f32) (param $ewd f32) (param $c f32) (param $oc f32)
    (param $beta f32) (param $obeta f32)
    (local $i i32) (local $vecEnd i32) (local $end i32)
    (local $RMS v128) (local $ETA v128) (local $EWD v128) (local $C v128) (local $OC v128)
    (local $BETA v128) (local $OBETA v128)
    (local $uv v128) (local $zv v128) (local $xv v128) (local $yv v128) (local $dv v128)
    (local.set $RMS (f32x4.splat (local.get $rms)))
    (local.set $ETA (f32x4.splat (local.get $eta)))
    (local.set $EWD (f32x4.splat (local.get $ewd)))
    (local.set $C (f32x4.splat (local.get $c)))
    (local.set $OC (f32x4.splat (local.get $oc)))
    (local.set $BETA (f32x4.splat (local.get $beta)))
    (local.set $OBETA (f32x4.splat (local.get $obeta)))
    (local.set $vecEnd (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (local.set $uv (v128.load align=4 (i32.add (local.get $u) (local.get $i))))
        (local.set $yv (v128.load align=4 (i32.add (local.get $y) (local.get $i))))
        (if (i32.and (local.get $flags) (i32.const 1))
          (then
            (local.set $uv (f32x4.div (local.get $uv) (local.get $RMS)))
            (v128.store align=4 (i32.add (local.get $u) (local.get $i)) (local.get $uv))))
        (local.set $zv (v128.load align=4 (i32.add (local.get $z0) (local.get $i))))
        (if (i32.and (local.get $flags) (i32.const 4))
          (then (local.set $zv (f32x4.sub (local.get $zv) (f32x4.mul (local.get $yv) (local.get $EWD))))))
        (if (i32.and (local.get $flags) (i32.const 2))
          (then (local.set $zv (f32x4.sub (local.get $zv) (f32x4.mul (local.get $uv) (local.get $ETA))))))
        (local.set $xv (v128.load align=4 (i32.add (local.get $x0) (local.get $i))))
        (if (i32.and (local.get $flags) (i32.const 8))
          (then (local.set $xv (f32x4.add
            (f32x4.mul (local.get $xv) (local.get $OC)) (f32x4.mul (local.get $zv) (local.get $C))))))
        (local.set $dv (f32x4.sub (local.get $yv)
          (if (result v128) (i32.and (local.get $flags) (i32.const 16))
            (then (f32x4.add
              (f32x4.mul (local.get $xv) (local.get $BETA)) (f32x4.mul (local.get $zv) (local.get $OBETA))))
            (else (local.get $zv)))))
        (v128.store align=4 (i32.add (local.get $zOut) (local.get $i)) (local.get $zv))
        (v128.store align=4 (i32.add (local.get $xOut) (local.get $i)) (local.get $xv))
        (v128.store align=4 (i32.add (local.get $dOut) (local.get $i)) (local.get $dv))
        (v128.store align=4 (i32.add (local.get $ycOut) (local.get $i)) (f32x4.sub (local.get $yv) (local.get $dv)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $tailLoop
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (call $sfOne (local.get $i) (local.get $u) (local.get $z0) (local.get $x0) (local.get $y)
          (local.get $zOut) (local.get $xOut) (local.get $dOut) (local.get $ycOut) (local.get $flags)
          (local.get $rms) (local.get $eta) (local.get $ewd) (local.get $c) (local.get $oc)
          (local.get $beta) (local.get $obeta))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tailLoop))))
)
