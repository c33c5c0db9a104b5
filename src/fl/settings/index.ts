export { LEARNING_RATE_BY_OPTIMIZER, RUN_SETTINGS, VALIDATION_DATA, type ValidationData } from './declarations';
export type { ChoiceOption, ChoiceSetting, NumberSetting, SettingCondition, SettingDecl, SettingSurface, SettingValue, TextSetting } from './types';
export {
  choiceSetting,
  choiceValues,
  formatSetting,
  getSetting,
  numberDefault,
  numberSetting,
  parseSetting,
  settingApplies,
  settingDefault,
  settingFlag,
  settingProblem,
  settingRangeText,
  settingsOn,
  textSetting,
} from './values';
