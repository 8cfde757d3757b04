"""The HMS contract: exact public names, and errors that name file, row and rule."""

import pandas as pd
import pytest

from eeg_hba.hms.contract import (
    HmsContractError,
    Violation,
    apply_bad_row_policy,
    parse_submission_table,
    parse_test_table,
    parse_train_table,
    screen_train_table,
    validate_eeg_frame,
    validate_spectrogram_frame,
)
from eeg_hba.hms.layout import EEG_CHANNELS, SPECTROGRAM_COLUMNS, TRAIN_COLUMNS, bipolar_pairs

from .hand_folder import hand_train_rows

# The LL columns exactly as the public spectrogram parquet names them.
PUBLIC_LL = """LL_0.59 LL_0.78 LL_0.98 LL_1.17 LL_1.37 LL_1.56 LL_1.76 LL_1.95 LL_2.15 LL_2.34
LL_2.54 LL_2.73 LL_2.93 LL_3.13 LL_3.32 LL_3.52 LL_3.71 LL_3.91 LL_4.1 LL_4.3 LL_4.49 LL_4.69
LL_4.88 LL_5.08 LL_5.27 LL_5.47 LL_5.66 LL_5.86 LL_6.05 LL_6.25 LL_6.45 LL_6.64 LL_6.84 LL_7.03
LL_7.23 LL_7.42 LL_7.62 LL_7.81 LL_8.01 LL_8.2 LL_8.4 LL_8.59 LL_8.79 LL_8.98 LL_9.18 LL_9.38
LL_9.57 LL_9.77 LL_9.96 LL_10.16 LL_10.35 LL_10.55 LL_10.74 LL_10.94 LL_11.13 LL_11.33 LL_11.52
LL_11.72 LL_11.91 LL_12.11 LL_12.3 LL_12.5 LL_12.7 LL_12.89 LL_13.09 LL_13.28 LL_13.48 LL_13.67
LL_13.87 LL_14.06 LL_14.26 LL_14.45 LL_14.65 LL_14.84 LL_15.04 LL_15.23 LL_15.43 LL_15.63 LL_15.82
LL_16.02 LL_16.21 LL_16.41 LL_16.6 LL_16.8 LL_16.99 LL_17.19 LL_17.38 LL_17.58 LL_17.77 LL_17.97
LL_18.16 LL_18.36 LL_18.55 LL_18.75 LL_18.95 LL_19.14 LL_19.34 LL_19.53 LL_19.73 LL_19.92""".split()  # noqa: SIM905


def test_layout_constants_match_the_public_files():
    assert len(EEG_CHANNELS) == 20 and EEG_CHANNELS[-1] == "EKG"
    assert SPECTROGRAM_COLUMNS[0] == "time" and len(SPECTROGRAM_COLUMNS) == 401
    assert list(SPECTROGRAM_COLUMNS[1:101]) == PUBLIC_LL
    regions = [c.split("_")[0] for c in SPECTROGRAM_COLUMNS[1:]]
    assert regions == ["LL"] * 100 + ["RL"] * 100 + ["LP"] * 100 + ["RP"] * 100
    assert bipolar_pairs("LL") == [("Fp1", "F7"), ("F7", "T3"), ("T3", "T5"), ("T5", "O1")]
    assert bipolar_pairs("RP") == [("Fp2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2")]


def _train_text(changes: dict | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(hand_train_rows(), columns=list(TRAIN_COLUMNS)).astype(str)
    for (row, column), value in (changes or {}).items():
        frame.loc[row, column] = value
    return frame


def test_valid_train_table_is_typed_like_the_public_file():
    train = parse_train_table(_train_text(), "train.csv")
    assert train["eeg_id"].dtype == "int64" and train["seizure_vote"].dtype == "int64"
    assert train["eeg_label_offset_seconds"].dtype == "float64"
    assert train.loc[1, "eeg_label_offset_seconds"] == 4.0


@pytest.mark.parametrize(
    ("cell", "value", "rule"),
    [
        ((2, "expert_consensus"), "Seizur", "expert_consensus must be one of"),
        ((3, "eeg_id"), "../../etc/passwd", "eeg_id must be a plain non-negative integer"),
        ((4, "eeg_id"), "12.5", "eeg_id must be a plain non-negative integer"),
        ((5, "eeg_label_offset_seconds"), "-2.0", "must be a non-negative number of seconds"),
        ((6, "lpd_vote"), "two", "lpd_vote must be a non-negative integer vote count"),
    ],
)
def test_bad_cell_names_file_row_and_rule(cell, value, rule):
    with pytest.raises(HmsContractError) as error:
        parse_train_table(_train_text({cell: value}), "/data/hms/train.csv")
    message = str(error.value)
    row, column = cell
    assert f"/data/hms/train.csv, row {row} (line {row + 2}): column '{column}'" in message
    assert rule in message and repr(value) in message


def test_votes_summing_to_zero_are_rejected_with_the_row():
    frame = _train_text({(7, c): "0" for c in TRAIN_COLUMNS if c.endswith("_vote")})
    with pytest.raises(
        HmsContractError,
        match=r"train.csv, row 7 \(line 9\): breaks rule: the six votes must not sum to 0",
    ):
        parse_train_table(frame, "train.csv")


def test_duplicate_label_id_is_rejected():
    with pytest.raises(HmsContractError, match=r"row 3 .*label_id must be unique"):
        parse_train_table(_train_text({(3, "label_id"): "1"}), "train.csv")


def test_skip_policy_reports_bad_rows_but_never_skips_a_bad_header():
    changes = {(2, "expert_consensus"): "Seizur", (5, "label_id"): "1"}  # label 1 is row 0's
    typed, violations = screen_train_table(_train_text(changes), "train.csv")
    kept, report = apply_bad_row_policy(typed, violations, "skip")
    assert report[["row", "line", "column"]].values.tolist() == [
        [2, 4, "expert_consensus"],
        [5, 7, "label_id"],
    ]
    assert len(kept) == len(hand_train_rows()) - 2 and not {2, 5} & set(kept.index)
    with pytest.raises(HmsContractError, match=r"row 2 \(line 4\)"):
        apply_bad_row_policy(typed, violations, "error")
    with pytest.raises(HmsContractError, match=r"train\.csv, header: breaks rule: no header"):
        apply_bad_row_policy(typed, [Violation("train.csv", "no header")], "skip")


def test_missing_column_and_non_hms_csv_are_rejected_at_the_header():
    with pytest.raises(
        HmsContractError,
        match=r"train.csv, header: breaks rule: required column 'lpd_vote' is missing",
    ):
        parse_train_table(_train_text().drop(columns=["lpd_vote"]), "train.csv")
    other = pd.DataFrame({"id": ["1"], "price": ["3.5"]})
    with pytest.raises(HmsContractError, match="required column 'eeg_id' is missing"):
        parse_train_table(other, "train.csv")


def test_columns_out_of_order_are_rejected():
    frame = _train_text()
    swapped = frame[[frame.columns[1], frame.columns[0], *frame.columns[2:]]]
    with pytest.raises(HmsContractError, match="columns must be in the order"):
        parse_train_table(swapped, "train.csv")


def test_test_and_submission_tables():
    test = parse_test_table(
        pd.DataFrame({"spectrogram_id": ["1"], "eeg_id": ["2"], "patient_id": ["3"]})
    )
    assert test.dtypes.tolist() == ["int64"] * 3
    good = {"eeg_id": ["2"], **{c: [str(1 / 6)] for c in TRAIN_COLUMNS if c.endswith("_vote")}}
    assert parse_submission_table(pd.DataFrame(good))["eeg_id"].tolist() == [2]
    bad = {**good, "seizure_vote": ["0.5"]}
    with pytest.raises(HmsContractError, match=r"row 0 .*probabilities must sum to 1"):
        parse_submission_table(pd.DataFrame(bad), "sample_submission.csv")


def test_signal_frames_need_their_exact_columns():
    eeg = pd.DataFrame(0.0, index=range(3), columns=list(EEG_CHANNELS), dtype="float32")
    validate_eeg_frame(eeg, "1.parquet")
    with pytest.raises(
        HmsContractError, match=r"1\.parquet, header: breaks rule: required column 'Cz' is missing"
    ):
        validate_eeg_frame(eeg.drop(columns=["Cz"]), "1.parquet")
    spectrogram = pd.DataFrame(
        1.0, index=range(2), columns=list(SPECTROGRAM_COLUMNS), dtype="float32"
    )
    spectrogram["time"] = [1, 3]
    validate_spectrogram_frame(spectrogram, "2.parquet")
    with pytest.raises(
        HmsContractError,
        match=r"column 'LL_4\.1' is not in the HMS layout|required column 'LL_4\.1'",
    ):
        validate_spectrogram_frame(spectrogram.rename(columns={"LL_4.1": "LL_4.10"}), "2.parquet")
