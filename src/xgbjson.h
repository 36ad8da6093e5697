/* xgbjson.h: writes the boosted trees in XGBoost's JSON model format.
 *
 * The file loads with xgboost.Booster(model_file="gbdt_model.json") in
 * XGBoost 1.7 and predicts what segcast predicts: split conditions and
 * leaf values are float32 values printed with nine significant digits ("%.8E": XGBoost 1.7 silently keeps its default 0.5 for a base_score string with ten or more digits) (so
 * they read back as the same float32), missing values follow
 * default_left, and base_score is the training mean (FIELD-NOTES.md lists
 * the fields XGBoost requires).
 */
#ifndef SEGCAST_XGBJSON_H
#define SEGCAST_XGBJSON_H

#include <stdio.h>

#include "forecast_gbdt.h"

/// Writes booster b (its kept trees) with the given feature names to f.
sc_status xgbjson_write(FILE *f, const fc_booster *b, const char *const *feature_names);

#endif
