/* Hyperparameter validation: types, ranges, choices, JSON, grids, and the messages. */
#include <cjson/cJSON.h>

#include "check.h"
#include "base/base.h"
#include "models/model.h"
#include "models/params.h"

static const struct param_spec spec[] = {
    {"C", PARAM_NUM, "1", 0, INFINITY, PARAM_MIN_OPEN, NULL, "inverse regularization"},
    {"max_iter", PARAM_INT, "100", 1, 1e6, 0, NULL, "iterations"},
    {"penalty", PARAM_CHOICE, "l2", NAN, NAN, 0, "l2|l1|none", "penalty"},
    {"gamma", PARAM_NUM, "scale", 0, INFINITY, PARAM_MIN_OPEN | PARAM_OR_CHOICE, "scale|auto", "g"},
    {"shrinking", PARAM_BOOL, "true", NAN, NAN, 0, NULL, "shrink"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

int main(void)
{
	struct params p;
	struct param_grid g;
	struct err e = ERR_INIT;
	cJSON *j;
	size_t i;

	params_init(&p, spec);
	check(p.n == 5, "five params");
	check(params_num(&p, "C") == 1 && params_num(&p, "max_iter") == 100, "numeric defaults");
	check(params_choice(&p, "penalty") == 0 && params_choice(&p, "gamma") == 0,
	      "choice defaults");
	check(params_num(&p, "shrinking") == 1, "bool default");

	check(params_set(&p, "logreg", "C", "0.5", &e) == 0 && params_num(&p, "C") == 0.5, "set C");
	check(
	    params_set(&p, "logreg", "C", "0", &e) < 0 && e.code == DYN_EUSAGE &&
		!strcmp(e.msg, "hyperparameter \"C\" of logreg: expected a number > 0, got \"0\""),
	    "C=0 rejected: %s", e.msg);
	check(params_set(&p, "logreg", "max-iter", "2.5", &e) < 0 &&
		  !strcmp(e.msg,
			  "hyperparameter \"max_iter\" of logreg: expected an integer from 1 to "
			  "1000000, got \"2.5\""),
	      "fractional max_iter rejected: %s", e.msg);
	check(params_set(&p, "logreg", "max-iter", "50", &e) == 0 &&
		  params_num(&p, "max_iter") == 50,
	      "dashes map to underscores");
	check(params_set(&p, "logreg", "penalty", "l3", &e) < 0 &&
		  !strcmp(e.msg,
			  "hyperparameter \"penalty\" of logreg: expected one of l2, l1, none, "
			  "got \"l3\""),
	      "bad choice: %s", e.msg);
	check(params_set(&p, "svc", "gamma", "0.01", &e) == 0 && params_choice(&p, "gamma") == -1 &&
		  params_num(&p, "gamma") == 0.01,
	      "gamma as number");
	check(params_set(&p, "svc", "gamma", "-1", &e) < 0 &&
		  !strcmp(e.msg,
			  "hyperparameter \"gamma\" of svc: expected one of scale, auto or a "
			  "number > 0, got \"-1\""),
	      "gamma negative: %s", e.msg);
	check(params_set(&p, "svc", "gama", "1", &e) < 0 &&
		  !strcmp(e.msg,
			  "unknown hyperparameter \"gama\" for svc (known: C, max_iter, penalty, "
			  "gamma, shrinking)"),
	      "unknown name: %s", e.msg);
	check(params_set(&p, "svc", "C", "nan", &e) < 0, "NaN rejected");
	check(params_set(&p, "svc", "C", "inf", &e) < 0, "Inf rejected");

	check(params_set_json(&p, "logreg",
			      "{\"C\": 10, \"penalty\": \"l1\", \"shrinking\": false}", &e) == 0 &&
		  params_num(&p, "C") == 10 && params_choice(&p, "penalty") == 1 &&
		  params_num(&p, "shrinking") == 0,
	      "JSON params");
	check(params_set_json(&p, "logreg", "[1]", &e) < 0 && e.code == DYN_EUSAGE,
	      "JSON not object");
	check(params_set_json(&p, "logreg", "{\"C\": null}", &e) < 0, "JSON null rejected");
	{
		struct params kp;
		const struct model_kind *k = model_kind_find("keypoints");
		double tf = -1;
		params_init(&kp, k->params);
		check(
		    params_set_json_common(&kp, "keypoints",
					   "{\"training_config\": {\"num_epochs\": 7, "
					   "\"learning_rate\": 0.01, \"pretrained_encoder\": null, "
					   "\"heads_sigma\": 4, \"test_fraction\": 0.3}}",
					   &tf, &e) == 0 &&
			params_num(&kp, "epochs") == 7 && params_num(&kp, "lr") == 0.01 &&
			params_num(&kp, "sigma") == 4 && tf == 0.3 &&
			params_choice(&kp, "encoder") == 0,
		    "the SLEAP service's training_config: its names, test_fraction, a null: %s",
		    e.msg);
		check(params_set_json_common(&kp, "keypoints", "{\"sigma\": null}", &tf, &e) < 0,
		      "a null of a dyn name is still rejected");
		params_release(&kp);
	}
	check(params_set_json(&p, "logreg", "{\"C\": -3}", &e) < 0 && strstr(e.msg, "\"C\""),
	      "JSON out of range");

	j = params_to_json(&p);
	check(cJSON_GetObjectItem(j, "penalty") &&
		  !strcmp(cJSON_GetObjectItem(j, "penalty")->valuestring, "l1"),
	      "to_json choice");
	check(cJSON_IsFalse(cJSON_GetObjectItem(j, "shrinking")), "to_json bool");
	cJSON_Delete(j);

	grid_init(&g);
	check(grid_parse(&g, &p, "svc", "C=0.1,1,10 gamma=scale,0.01", &e) == 0 &&
		  grid_size(&g) == 6,
	      "grid of 6");
	for (i = 0; i < grid_size(&g); i++)
		grid_point(&g, i, &p, "svc", &e);
	check(params_num(&p, "C") == 10 && params_num(&p, "gamma") == 0.01, "last grid point");
	grid_release(&g);
	grid_init(&g);
	check(grid_parse(&g, &p, "svc", "C=1,-2", &e) < 0 && strstr(e.msg, "--grid"),
	      "grid validated: %s", e.msg);
	grid_release(&g);
	grid_init(&g);
	check(grid_parse(&g, &p, "svc", "nope=1", &e) < 0 &&
		  strstr(e.msg, "unknown hyperparameter"),
	      "grid unknown: %s", e.msg);
	grid_release(&g);
	grid_init(&g);
	check(grid_parse(&g, &p, "svc", "C", &e) < 0, "grid malformed");
	grid_release(&g);
	params_release(&p);
	return check_done();
}
