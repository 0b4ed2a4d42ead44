;; lrfree's hand-written SIMD kernels for its wasm backend (compiled by scripts/wasm.ts into kernels.wasm.ts).
;; The first, the fused Adam direction: one pass over the gradient instead of TF.js's 13 kernels, with the same float32 operations in the same
;; order as the op path of src/directions/adam.ts, so both give bit-identical results:
;;   m = m0*b1 + g*(1-b1);  v = v0*b2 + (g*g)*(1-b2);  den = sqrt(v/c2) + eps;  d = (m/c1)/den;  s = g/den
;; It returns 1 when an element of m or v is NaN or infinite (the optimizer's finiteness check then need not
;; read them again: src/backend/wasm/finiteMemo.ts).
;; Pointers are byte offsets into TF.js's own heap (the memory is imported), n counts float32 elements.
(module
  (import "env" "memory" (memory 0))
  (func (export "adam")
    (param $g i32) (param $m0 i32) (param $v0 i32)
    (param $mOut i32) (param $vOut i32) (param $dOut i32) (param $sOut i32) (param $withS i32)
    (param $n i32)
    (param $b1 f32) (param $ob1 f32) (param $b2 f32) (param $ob2 f32)
    (param $c1 f32) (param $c2 f32) (param $eps f32)
    (result i32)
    (local $i i32) (local $vecEnd i32) (local $end i32) (local $bad v128) (local $EXP v128) (local $badS i32)
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
    (local.set $EXP (i32x4.splat (i32.const 0x7f800000)))
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
        ;; Lanes of m or v with all exponent bits set (NaN or infinite), for the returned flag.
        (local.set $bad (v128.or (local.get $bad) (v128.or
          (i32x4.eq (v128.and (local.get $mv) (local.get $EXP)) (local.get $EXP))
          (i32x4.eq (v128.and (local.get $vv) (local.get $EXP)) (local.get $EXP)))))
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
        (local.set $badS (i32.or (local.get $badS) (i32.or
          (i32.eq (i32.and (i32.reinterpret_f32 (local.get $ms)) (i32.const 0x7f800000)) (i32.const 0x7f800000))
          (i32.eq (i32.and (i32.reinterpret_f32 (local.get $vs)) (i32.const 0x7f800000)) (i32.const 0x7f800000)))))
        (local.set $dens (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))
        (f32.store (i32.add (local.get $dOut) (local.get $i))
          (f32.div (f32.div (local.get $ms) (local.get $c1)) (local.get $dens)))
        (if (local.get $withS)
          (then (f32.store (i32.add (local.get $sOut) (local.get $i))
            (f32.div (local.get $gs) (local.get $dens)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail)))
    ;; 1 when any element of m or v is NaN or infinite.
    (i32.or (local.get $badS) (v128.any_true (local.get $bad))))

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
  ;; the TF.js-ops path of src/optimizers/auto/direction.ts; the two sums accumulate in four float32 lanes (TF.js sums
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

  ;; The 2-D product C[m, n] = A[m, k] @ B[k, n] with both operands read through byte strides (so either
  ;; may be transposed), for Dense layers' forward and backward passes. B is first packed by `pack_b`
  ;; into panels of 8 columns, [ceil(n/8)][k][8] floats (zeros past column n), then `matmul_packed` runs
  ;; 4 x 8 tiles panel by panel: a panel (k x 32 bytes) stays in L1 while every row block passes over it,
  ;; and is read contiguously. Each C element is one float32 sum over k in order (c += a * b) from 0, like
  ;; the cpu kernel within a block.

  ;; dst[p][kk][jj] = B[kk, 8p + jj] (0 where 8p + jj >= n); B[kk, j] is at b + kk * sbk + j * sbn bytes.
  (func (export "pack_b") (param $b i32) (param $dst i32) (param $k i32) (param $n i32) (param $sbk i32) (param $sbn i32)
    (local $j i32) (local $kk i32) (local $jj i32) (local $src i32) (local $full i32)
    (block $panelsDone
      (loop $panels
        (br_if $panelsDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $full (i32.and (i32.le_u (i32.add (local.get $j) (i32.const 8)) (local.get $n))
                                  (i32.eq (local.get $sbn) (i32.const 4))))
        (local.set $kk (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $kk) (local.get $k)))
            (local.set $src (i32.add (i32.add (local.get $b) (i32.mul (local.get $kk) (local.get $sbk)))
                                     (i32.mul (local.get $j) (local.get $sbn))))
            (if (local.get $full)
              (then
                (v128.store align=4 (local.get $dst) (v128.load align=4 (local.get $src)))
                (v128.store offset=16 align=4 (local.get $dst) (v128.load offset=16 align=4 (local.get $src))))
              (else
                (local.set $jj (i32.const 0))
                (block $colsDone
                  (loop $cols
                    (br_if $colsDone (i32.ge_u (local.get $jj) (i32.const 8)))
                    (f32.store (i32.add (local.get $dst) (i32.shl (local.get $jj) (i32.const 2)))
                      (if (result f32) (i32.lt_u (i32.add (local.get $j) (local.get $jj)) (local.get $n))
                        (then (f32.load (i32.add (local.get $src) (i32.mul (local.get $jj) (local.get $sbn)))))
                        (else (f32.const 0))))
                    (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
                    (br $cols)))))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br $rows)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $panels))))

  ;; One tile: C[i..i+rows, j..j+cols] (rows <= 4, cols <= 8) from A rows at $a (A[i, 0]) and the panel at
  ;; $p. Missing rows re-read row i (their results are dropped); a partial tile goes through $scratch
  ;; (128 bytes) and only its valid part is copied to C.
  (func $tile4x8
    (param $a i32) (param $sai i32) (param $sak i32) (param $rows i32) (param $p i32) (param $k i32)
    (param $c i32) (param $nb i32) (param $cols i32) (param $scratch i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $r i32) (local $jj i32) (local $out i32) (local $partial i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local.set $a1 (select (i32.add (local.get $a) (local.get $sai)) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 1))))
    (local.set $a2 (select (i32.add (local.get $a) (i32.shl (local.get $sai) (i32.const 1))) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 2))))
    (local.set $a3 (select (i32.add (local.get $a) (i32.mul (local.get $sai) (i32.const 3))) (local.get $a) (i32.gt_u (local.get $rows) (i32.const 3))))
    (block $done
      (loop $kLoop
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load align=4 (local.get $p)))
        (local.set $b1 (v128.load offset=16 align=4 (local.get $p)))
        (local.set $x (v128.load32_splat align=4 (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat align=4 (local.get $a1)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat align=4 (local.get $a2)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat align=4 (local.get $a3)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (local.get $sak)))
        (local.set $a1 (i32.add (local.get $a1) (local.get $sak)))
        (local.set $a2 (i32.add (local.get $a2) (local.get $sak)))
        (local.set $a3 (i32.add (local.get $a3) (local.get $sak)))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $kLoop)))
    (local.set $partial (i32.eqz
      (i32.and (i32.eq (local.get $rows) (i32.const 4)) (i32.eq (local.get $cols) (i32.const 8)))))
    (local.set $out (select (local.get $scratch) (local.get $c) (local.get $partial)))
    (local.set $r (select (i32.const 32) (local.get $nb) (local.get $partial)))
    (v128.store align=4 (local.get $out) (local.get $c00))
    (v128.store offset=16 align=4 (local.get $out) (local.get $c01))
    (local.set $out (i32.add (local.get $out) (local.get $r)))
    (v128.store align=4 (local.get $out) (local.get $c10))
    (v128.store offset=16 align=4 (local.get $out) (local.get $c11))
    (local.set $out (i32.add (local.get $out) (local.get $r)))
    (v128.store align=4 (local.get $out) (local.get $c20))
    (v128.store offset=16 align=4 (local.get $out) (local.get $c21))
    (local.set $out (i32.add (local.get $out) (local.get $r)))
    (v128.store align=4 (local.get $out) (local.get $c30))
    (v128.store offset=16 align=4 (local.get $out) (local.get $c31))
    (if (local.get $partial)
      (then
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rowCopy
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $jj (i32.const 0))
            (block $colsDone
              (loop $colCopy
                (br_if $colsDone (i32.ge_u (local.get $jj) (local.get $cols)))
                (f32.store (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $nb))) (i32.shl (local.get $jj) (i32.const 2)))
                  (f32.load (i32.add (i32.add (local.get $scratch) (i32.shl (local.get $r) (i32.const 5))) (i32.shl (local.get $jj) (i32.const 2)))))
                (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
                (br $colCopy)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rowCopy))))))

  ;; C[m, n] (row-major, contiguous) = A @ B with A[i, kk] at a + i * sai + kk * sak bytes and B packed by
  ;; `pack_b` at $p; $scratch: 128 bytes of free memory.
  (func (export "matmul_packed")
    (param $a i32) (param $p i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32)
    (param $sai i32) (param $sak i32) (param $scratch i32)
    (local $nb i32) (local $i i32) (local $j i32) (local $rows i32) (local $cols i32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (block $colsDone
      (loop $panels
        (br_if $colsDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $cols (select (i32.const 8) (i32.sub (local.get $n) (local.get $j))
          (i32.le_u (i32.add (local.get $j) (i32.const 8)) (local.get $n))))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $rowBlocks
            (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $rows (select (i32.const 4) (i32.sub (local.get $m) (local.get $i))
              (i32.le_u (i32.add (local.get $i) (i32.const 4)) (local.get $m))))
            (call $tile4x8 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sai)))
              (local.get $sai) (local.get $sak) (local.get $rows) (local.get $p) (local.get $k)
              (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $nb) (local.get $cols) (local.get $scratch))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $rowBlocks)))
        (local.set $p (i32.add (local.get $p) (i32.shl (local.get $k) (i32.const 5))))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $panels))))


  ;; ---------------------------------------------------------------------------------------------------
  ;; Elementwise float32 arithmetic (TF.js's Add, Sub, Multiply, RealDiv) where one operand repeats:
  ;; out[i] = x[i] op y[i mod period] (period = n: same shape; 1: a scalar; the last axes' size: a bias),
  ;; or y[i mod period] op x[i] with $yFirst. One IEEE float32 operation per element, as the stock kernels.
  ;; $op: 0 add, 1 sub, 2 mul, 3 div. n must be a multiple of period.

  (func $bin_add (param $x i32) (param $y i32) (param $out i32) (param $n i32) (param $period i32)
    (local $i i32) (local $j i32) (local $end i32) (local $rowEnd i32) (local $vecEnd i32) (local $yv v128) (local $ys f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (if (i32.eq (local.get $period) (i32.const 1))
      (then
        (local.set $ys (f32.load (local.get $y)))
        (local.set $yv (f32x4.splat (local.get $ys)))
        (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
        (block $vd (loop $v
          (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
          (v128.store align=4 (i32.add (local.get $out) (local.get $i))
            (f32x4.add (v128.load align=4 (i32.add (local.get $x) (local.get $i))) (local.get $yv)))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $v)))
        (block $td (loop $t
          (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
          (f32.store (i32.add (local.get $out) (local.get $i))
            (f32.add (f32.load (i32.add (local.get $x) (local.get $i))) (local.get $ys)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $t)))
        (return)))
    ;; Rows of `period` elements, each against y[0 .. period).
    (block $rd (loop $r
      (br_if $rd (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $i) (i32.shl (local.get $period) (i32.const 2))))
      (local.set $vecEnd (i32.add (local.get $i) (i32.and (i32.shl (local.get $period) (i32.const 2)) (i32.const -16))))
      (local.set $j (i32.const 0))
      (block $vd (loop $v
        (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i))
          (f32x4.add (v128.load align=4 (i32.add (local.get $x) (local.get $i))) (v128.load align=4 (i32.add (local.get $y) (local.get $j)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $v)))
      (block $td (loop $t
        (br_if $td (i32.ge_u (local.get $i) (local.get $rowEnd)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.add (f32.load (i32.add (local.get $x) (local.get $i))) (f32.load (i32.add (local.get $y) (local.get $j)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $t)))
      (br $r))))

  (func $bin_sub (param $x i32) (param $y i32) (param $out i32) (param $n i32) (param $period i32)
    (local $i i32) (local $j i32) (local $end i32) (local $rowEnd i32) (local $vecEnd i32) (local $yv v128) (local $ys f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (if (i32.eq (local.get $period) (i32.const 1))
      (then
        (local.set $ys (f32.load (local.get $y)))
        (local.set $yv (f32x4.splat (local.get $ys)))
        (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
        (block $vd (loop $v
          (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
          (v128.store align=4 (i32.add (local.get $out) (local.get $i))
            (f32x4.sub (v128.load align=4 (i32.add (local.get $x) (local.get $i))) (local.get $yv)))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $v)))
        (block $td (loop $t
          (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
          (f32.store (i32.add (local.get $out) (local.get $i))
            (f32.sub (f32.load (i32.add (local.get $x) (local.get $i))) (local.get $ys)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $t)))
        (return)))
    ;; Rows of `period` elements, each against y[0 .. period).
    (block $rd (loop $r
      (br_if $rd (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $i) (i32.shl (local.get $period) (i32.const 2))))
      (local.set $vecEnd (i32.add (local.get $i) (i32.and (i32.shl (local.get $period) (i32.const 2)) (i32.const -16))))
      (local.set $j (i32.const 0))
      (block $vd (loop $v
        (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i))
          (f32x4.sub (v128.load align=4 (i32.add (local.get $x) (local.get $i))) (v128.load align=4 (i32.add (local.get $y) (local.get $j)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $v)))
      (block $td (loop $t
        (br_if $td (i32.ge_u (local.get $i) (local.get $rowEnd)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.sub (f32.load (i32.add (local.get $x) (local.get $i))) (f32.load (i32.add (local.get $y) (local.get $j)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $t)))
      (br $r))))

  (func $bin_sub_yx (param $x i32) (param $y i32) (param $out i32) (param $n i32) (param $period i32)
    (local $i i32) (local $j i32) (local $end i32) (local $rowEnd i32) (local $vecEnd i32) (local $yv v128) (local $ys f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (if (i32.eq (local.get $period) (i32.const 1))
      (then
        (local.set $ys (f32.load (local.get $y)))
        (local.set $yv (f32x4.splat (local.get $ys)))
        (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
        (block $vd (loop $v
          (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
          (v128.store align=4 (i32.add (local.get $out) (local.get $i))
            (f32x4.sub (local.get $yv) (v128.load align=4 (i32.add (local.get $x) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $v)))
        (block $td (loop $t
          (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
          (f32.store (i32.add (local.get $out) (local.get $i))
            (f32.sub (local.get $ys) (f32.load (i32.add (local.get $x) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $t)))
        (return)))
    ;; Rows of `period` elements, each against y[0 .. period).
    (block $rd (loop $r
      (br_if $rd (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $i) (i32.shl (local.get $period) (i32.const 2))))
      (local.set $vecEnd (i32.add (local.get $i) (i32.and (i32.shl (local.get $period) (i32.const 2)) (i32.const -16))))
      (local.set $j (i32.const 0))
      (block $vd (loop $v
        (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i))
          (f32x4.sub (v128.load align=4 (i32.add (local.get $y) (local.get $j))) (v128.load align=4 (i32.add (local.get $x) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $v)))
      (block $td (loop $t
        (br_if $td (i32.ge_u (local.get $i) (local.get $rowEnd)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.sub (f32.load (i32.add (local.get $y) (local.get $j))) (f32.load (i32.add (local.get $x) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $t)))
      (br $r))))

  (func $bin_mul (param $x i32) (param $y i32) (param $out i32) (param $n i32) (param $period i32)
    (local $i i32) (local $j i32) (local $end i32) (local $rowEnd i32) (local $vecEnd i32) (local $yv v128) (local $ys f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (if (i32.eq (local.get $period) (i32.const 1))
      (then
        (local.set $ys (f32.load (local.get $y)))
        (local.set $yv (f32x4.splat (local.get $ys)))
        (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
        (block $vd (loop $v
          (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
          (v128.store align=4 (i32.add (local.get $out) (local.get $i))
            (f32x4.mul (v128.load align=4 (i32.add (local.get $x) (local.get $i))) (local.get $yv)))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $v)))
        (block $td (loop $t
          (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
          (f32.store (i32.add (local.get $out) (local.get $i))
            (f32.mul (f32.load (i32.add (local.get $x) (local.get $i))) (local.get $ys)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $t)))
        (return)))
    ;; Rows of `period` elements, each against y[0 .. period).
    (block $rd (loop $r
      (br_if $rd (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $i) (i32.shl (local.get $period) (i32.const 2))))
      (local.set $vecEnd (i32.add (local.get $i) (i32.and (i32.shl (local.get $period) (i32.const 2)) (i32.const -16))))
      (local.set $j (i32.const 0))
      (block $vd (loop $v
        (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i))
          (f32x4.mul (v128.load align=4 (i32.add (local.get $x) (local.get $i))) (v128.load align=4 (i32.add (local.get $y) (local.get $j)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $v)))
      (block $td (loop $t
        (br_if $td (i32.ge_u (local.get $i) (local.get $rowEnd)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.mul (f32.load (i32.add (local.get $x) (local.get $i))) (f32.load (i32.add (local.get $y) (local.get $j)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $t)))
      (br $r))))

  (func $bin_div (param $x i32) (param $y i32) (param $out i32) (param $n i32) (param $period i32)
    (local $i i32) (local $j i32) (local $end i32) (local $rowEnd i32) (local $vecEnd i32) (local $yv v128) (local $ys f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (if (i32.eq (local.get $period) (i32.const 1))
      (then
        (local.set $ys (f32.load (local.get $y)))
        (local.set $yv (f32x4.splat (local.get $ys)))
        (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
        (block $vd (loop $v
          (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
          (v128.store align=4 (i32.add (local.get $out) (local.get $i))
            (f32x4.div (v128.load align=4 (i32.add (local.get $x) (local.get $i))) (local.get $yv)))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $v)))
        (block $td (loop $t
          (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
          (f32.store (i32.add (local.get $out) (local.get $i))
            (f32.div (f32.load (i32.add (local.get $x) (local.get $i))) (local.get $ys)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $t)))
        (return)))
    ;; Rows of `period` elements, each against y[0 .. period).
    (block $rd (loop $r
      (br_if $rd (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $i) (i32.shl (local.get $period) (i32.const 2))))
      (local.set $vecEnd (i32.add (local.get $i) (i32.and (i32.shl (local.get $period) (i32.const 2)) (i32.const -16))))
      (local.set $j (i32.const 0))
      (block $vd (loop $v
        (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i))
          (f32x4.div (v128.load align=4 (i32.add (local.get $x) (local.get $i))) (v128.load align=4 (i32.add (local.get $y) (local.get $j)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $v)))
      (block $td (loop $t
        (br_if $td (i32.ge_u (local.get $i) (local.get $rowEnd)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.div (f32.load (i32.add (local.get $x) (local.get $i))) (f32.load (i32.add (local.get $y) (local.get $j)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $t)))
      (br $r))))

  (func $bin_div_yx (param $x i32) (param $y i32) (param $out i32) (param $n i32) (param $period i32)
    (local $i i32) (local $j i32) (local $end i32) (local $rowEnd i32) (local $vecEnd i32) (local $yv v128) (local $ys f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (if (i32.eq (local.get $period) (i32.const 1))
      (then
        (local.set $ys (f32.load (local.get $y)))
        (local.set $yv (f32x4.splat (local.get $ys)))
        (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
        (block $vd (loop $v
          (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
          (v128.store align=4 (i32.add (local.get $out) (local.get $i))
            (f32x4.div (local.get $yv) (v128.load align=4 (i32.add (local.get $x) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $v)))
        (block $td (loop $t
          (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
          (f32.store (i32.add (local.get $out) (local.get $i))
            (f32.div (local.get $ys) (f32.load (i32.add (local.get $x) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $t)))
        (return)))
    ;; Rows of `period` elements, each against y[0 .. period).
    (block $rd (loop $r
      (br_if $rd (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $rowEnd (i32.add (local.get $i) (i32.shl (local.get $period) (i32.const 2))))
      (local.set $vecEnd (i32.add (local.get $i) (i32.and (i32.shl (local.get $period) (i32.const 2)) (i32.const -16))))
      (local.set $j (i32.const 0))
      (block $vd (loop $v
        (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i))
          (f32x4.div (v128.load align=4 (i32.add (local.get $y) (local.get $j))) (v128.load align=4 (i32.add (local.get $x) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $v)))
      (block $td (loop $t
        (br_if $td (i32.ge_u (local.get $i) (local.get $rowEnd)))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.div (f32.load (i32.add (local.get $y) (local.get $j))) (f32.load (i32.add (local.get $x) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $t)))
      (br $r))))

  (func (export "binary") (param $op i32) (param $x i32) (param $y i32) (param $out i32) (param $n i32)
    (param $period i32) (param $yFirst i32)
    (if (i32.eqz (local.get $n)) (then (return)))
    (block $div (block $mul (block $sub (block $add
      (br_table $add $sub $mul $div (local.get $op)))
      (call $bin_add (local.get $x) (local.get $y) (local.get $out) (local.get $n) (local.get $period))
      (return))
      (if (local.get $yFirst)
        (then (call $bin_sub_yx (local.get $x) (local.get $y) (local.get $out) (local.get $n) (local.get $period)))
        (else (call $bin_sub (local.get $x) (local.get $y) (local.get $out) (local.get $n) (local.get $period))))
      (return))
      (call $bin_mul (local.get $x) (local.get $y) (local.get $out) (local.get $n) (local.get $period))
      (return))
    (if (local.get $yFirst)
      (then (call $bin_div_yx (local.get $x) (local.get $y) (local.get $out) (local.get $n) (local.get $period)))
      (else (call $bin_div (local.get $x) (local.get $y) (local.get $out) (local.get $n) (local.get $period)))))

  ;; out[i] = sqrt(x[i]) ($op 0) or x[i] * x[i] ($op 1), float32 (TF.js's Sqrt and Square).
  (func (export "unary") (param $op i32) (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32) (local $vecEnd i32) (local $v v128) (local $s f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
    (if (i32.eqz (local.get $op))
      (then
        (block $vd (loop $v
          (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
          (v128.store align=4 (i32.add (local.get $out) (local.get $i))
            (f32x4.sqrt (v128.load align=4 (i32.add (local.get $x) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $v))))
      (else
        (block $vd (loop $v
          (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
          (local.set $v (v128.load align=4 (i32.add (local.get $x) (local.get $i))))
          (v128.store align=4 (i32.add (local.get $out) (local.get $i)) (f32x4.mul (local.get $v) (local.get $v)))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $v)))))
    (block $td (loop $t
      (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $s (f32.load (i32.add (local.get $x) (local.get $i))))
      (f32.store (i32.add (local.get $out) (local.get $i))
        (select (f32.sqrt (local.get $s)) (f32.mul (local.get $s) (local.get $s)) (i32.eqz (local.get $op))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $t))))

  ;; ---------------------------------------------------------------------------------------------------
  ;; The optimizer core's per-step bookkeeping (src/backend/wasm/stepKernels.ts): one pass per tensor
  ;; instead of two to three TF.js kernels each.

  ;; 1 when any of x[0 .. n) is NaN or infinite (all exponent bits set), else 0.
  (func (export "any_non_finite") (param $x i32) (param $n i32) (result i32)
    (local $i i32) (local $end i32) (local $vecEnd i32) (local $acc v128) (local $mask v128)
    (local.set $mask (i32x4.splat (i32.const 0x7f800000)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
    (block $vd (loop $v
      (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
      (local.set $acc (v128.or (local.get $acc)
        (i32x4.eq (v128.and (v128.load align=4 (i32.add (local.get $x) (local.get $i))) (local.get $mask))
          (local.get $mask))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $v)))
    (block $td (loop $t
      (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
      (if (i32.eq (i32.and (i32.load (i32.add (local.get $x) (local.get $i))) (i32.const 0x7f800000))
            (i32.const 0x7f800000))
        (then (return (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $t)))
    (v128.any_true (local.get $acc)))

  ;; The sum of x[i]*x[i] over x[0 .. n): each square rounded to float32, then added in float32 from 0 in
  ;; order, as stock wasm's Sum of a Square does (so the two agree bit for bit).
  (func (export "sum_squares") (param $x i32) (param $n i32) (result f32)
    (local $i i32) (local $end i32) (local $s f32) (local $v f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $v (f32.load (i32.add (local.get $x) (local.get $i))))
      (local.set $s (f32.add (local.get $s) (f32.mul (local.get $v) (local.get $v))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l)))
    (local.get $s))

  ;; out[i] = a*d[i] + base[i], the product rounded to float32 before the sum: a Multiply then an Add kernel.
  ;; Returns 1 when any element of out is NaN or infinite.
  (func (export "axpy") (param $d i32) (param $base i32) (param $out i32) (param $n i32) (param $a f32)
    (result i32)
    (local $i i32) (local $end i32) (local $vecEnd i32) (local $av v128) (local $r v128) (local $rs f32)
    (local $bad v128) (local $EXP v128) (local $badS i32)
    (local.set $EXP (i32x4.splat (i32.const 0x7f800000)))
    (local.set $av (f32x4.splat (local.get $a)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
    (block $vd (loop $v
      (br_if $vd (i32.ge_u (local.get $i) (local.get $vecEnd)))
      (local.set $r (f32x4.add (f32x4.mul (local.get $av) (v128.load align=4 (i32.add (local.get $d) (local.get $i))))
        (v128.load align=4 (i32.add (local.get $base) (local.get $i)))))
      (v128.store align=4 (i32.add (local.get $out) (local.get $i)) (local.get $r))
      (local.set $bad (v128.or (local.get $bad)
        (i32x4.eq (v128.and (local.get $r) (local.get $EXP)) (local.get $EXP))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $v)))
    (block $td (loop $t
      (br_if $td (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $rs (f32.add (f32.mul (local.get $a) (f32.load (i32.add (local.get $d) (local.get $i))))
        (f32.load (i32.add (local.get $base) (local.get $i)))))
      (f32.store (i32.add (local.get $out) (local.get $i)) (local.get $rs))
      (local.set $badS (i32.or (local.get $badS)
        (i32.eq (i32.and (i32.reinterpret_f32 (local.get $rs)) (i32.const 0x7f800000)) (i32.const 0x7f800000))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $t)))
    (i32.or (local.get $badS) (v128.any_true (local.get $bad))))

)
